package domain

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The parsers of what people and partners type, fuzzed. The seeds below run in every `go test`;
// `make fuzz-parsers` searches further (scripts/fuzz-parsers.sh). Each target states what an
// accepted input must satisfy, beyond not panicking.

var canonicalSNILS = regexp.MustCompile(`^[0-9]{3}-[0-9]{3}-[0-9]{3} [0-9]{2}$`)

func FuzzNormalizeSNILS(f *testing.F) {
	for _, s := range []string{"112-233-445 95", "11223344595", "112-233-445-95", " 112233445 95 ", "001-001-998 00",
		"112-233-445 96", "１１２-２３３-４４５ ９５", "112-233-445\u00a095", "", "-", "000-000-000 00", "999-999-999 99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := NormalizeSNILS(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID {
				t.Fatalf("NormalizeSNILS(%q): %v is not an EINVALID error", s, err)
			}
			return
		}
		if !canonicalSNILS.MatchString(out) {
			t.Fatalf("NormalizeSNILS(%q) = %q, not XXX-XXX-XXX YY", s, out)
		}
		if again, err := NormalizeSNILS(out); err != nil || again != out {
			t.Fatalf("NormalizeSNILS(%q) = %q, which normalizes to %q, %v", s, out, again, err)
		}
		if digits(out) != digits(s) {
			t.Fatalf("NormalizeSNILS(%q) = %q changed the digits", s, out)
		}
		_ = MaskSNILS(out)
	})
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

var contractCaseNumber = regexp.MustCompile(`^KC-[0-9]{4}-[0-9]{6}$`)

func FuzzValidCaseNumber(f *testing.F) {
	for _, s := range []string{"KC-2025-000123", "kc-2025-000123", "KC-2025-00012", "KC-2025-0001234", "KC-20x5-000123",
		"KC_2025_000123", "KC-2025-000123\n", "КС-2025-000123", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidCaseNumber(s), contractCaseNumber.MatchString(s); got != want {
			t.Fatalf("ValidCaseNumber(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}

func FuzzContactPhoneAndEmail(f *testing.F) {
	for _, s := range [][2]string{{"+7 (916) 123-45-67", "son@example.org"}, {"89161234567", ""}, {"", "a@b"},
		{"+7 916 123 45 67 ext 5", "<x@y>"}, {"12", "x y@z"}, {"+", "@"}, {"\x00", "\xff"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, phone, email string) {
		c := Contact{Name: "Иванов Пётр", Relation: "сын", Phone: phone, Email: email}
		err := c.validate("contacts.0")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID {
				t.Fatalf("validate(%q, %q): %v is not an EINVALID error", phone, email, err)
			}
			return
		}
		if phone != "" && (len(phone) > 22 || strings.Trim(phone, "+0123456789 ()-") != "" || strings.Count(phone, "+") > 1) {
			t.Fatalf("phone %q was accepted", phone)
		}
		if strings.ContainsAny(email, "<> \x00") {
			t.Fatalf("e-mail %q was accepted", email)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2025-01-01", "2025-02-29", "2024-02-29", "0000-01-01", "9999-12-31", "2025-1-1", "2025-01-01T00:00:00Z", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			return
		}
		if again, err := ParseDate(d.String()); err != nil || again != d {
			t.Fatalf("ParseDate(%q) = %s, which parses back as %v, %v", s, d, again, err)
		}
	})
}

func FuzzParseQuietHours(f *testing.F) {
	for _, s := range []string{"21-09", "21:00-09:00", "off", "", "9-9", "24-1", "-1-5", "21-", "21:30-09:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuietHours(s)
		if err != nil {
			return
		}
		if q.From < 0 || q.From > 23 || q.To < 0 || q.To > 23 {
			t.Fatalf("ParseQuietHours(%q) = %+v", s, q)
		}
		again, err := ParseQuietHours(q.String())
		bothOff := again.From == again.To && q.From == q.To // "5-5" reads as no window, written "off"
		if err != nil || (again != q && !bothOff) {
			t.Fatalf("ParseQuietHours(%q) = %+v, written %q, read back %+v, %v", s, q, q, again, err)
		}
	})
}

func FuzzParseValidity(f *testing.F) {
	for _, s := range []string{"medical_card=6,no_contraindications=6,psychiatric_commission=6", "medical_card=120", "medical_card=121",
		"medical_card=0", "passport=6", "medical_card=+6", "medical_card=18446744073709551622", ",,", "medical_card"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseValidity(s)
		if err != nil {
			return
		}
		last := map[string]string{} // a type named twice: the last one counts
		for _, part := range strings.Split(s, ",") {
			if k, val, ok := strings.Cut(strings.TrimSpace(part), "="); ok {
				last[k] = val
			}
		}
		for k, val := range last {
			if n, err := strconv.Atoi(val); err != nil || n != v[DocType(k)] || n < 1 || n > 120 {
				t.Fatalf("ParseValidity(%q) took %s=%q as %d months", s, k, val, v[DocType(k)])
			}
		}
	})
}
