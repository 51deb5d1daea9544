package migrations

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"strings"
	"testing"
)

// FuzzReadCalendar: `carepath calendar import FILE` reads whatever an operator hands it. It
// never panics, every value it returns is trimmed, and writing the rows out again as CSV reads
// back as the same rows. Seeds run in every `go test`; `make fuzz-parsers` searches further.
func FuzzReadCalendar(f *testing.F) {
	shipped, err := FS.ReadFile("calendar/ru.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(shipped)
	for _, s := range []string{"date,kind,note\n2028-01-01,holiday,Новый год\n", "date,kind\n2028-01-08,workday\n",
		"date,kind,note\n\"2028-01-01\",\"holiday\",\"a \"\"quoted\"\" note\"\n", "date,kind,note\n2028-01-01\n",
		"date,kind,note\r\n 2028-01-01 , holiday , x \r\n", "kind,date\n", "", "date,kind,note\n\"unterminated\n", "\ufeffdate,kind,note\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		rows, err := ReadCalendar(bytes.NewReader(in))
		if err != nil {
			return
		}
		var out bytes.Buffer
		w := csv.NewWriter(&out)
		_ = w.Write([]string{"date", "kind", "note"})
		for _, r := range rows {
			for _, v := range []string{r.Date, r.Kind, r.Note} {
				if v != strings.TrimSpace(v) {
					t.Fatalf("row %+v is not trimmed", r)
				}
			}
			_ = w.Write([]string{r.Date, r.Kind, r.Note})
		}
		w.Flush()
		again, err := ReadCalendar(&out)
		if err != nil || !reflect.DeepEqual(again, rows) {
			t.Fatalf("rows %+v written as CSV read back as %+v, %v", rows, again, err)
		}
	})
}
