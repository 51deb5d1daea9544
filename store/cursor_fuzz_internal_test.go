package store

import (
	"errors"
	"testing"

	"carepath/domain"
)

// FuzzDecodeCursor: a list's cursor comes back from clients, tampered or not. Anything
// accepted names a positive position, and every cursor the server gives out reads back as its
// position. Seeds run in every `go test`; `make fuzz-parsers` searches further.
func FuzzDecodeCursor(f *testing.F) {
	for _, s := range []string{encodeCursor(1), encodeCursor(1 << 62), "czA", "cy0x", "", "s1", "====", "czEyMw==", "c" + "\x00", "czk5OTk5OTk5OTk5OTk5OTk5OTk5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		seq, err := decodeCursor(c)
		if err != nil {
			var e *domain.Error
			if !errors.As(err, &e) || e.Code != domain.EINVALID {
				t.Fatalf("decodeCursor(%q): %v is not an EINVALID error", c, err)
			}
			return
		}
		if seq < 1 {
			t.Fatalf("decodeCursor(%q) = %d", c, seq)
		}
		if again, err := decodeCursor(encodeCursor(seq)); err != nil || again != seq {
			t.Fatalf("cursor of %d reads back as %d, %v", seq, again, err)
		}
	})
}
