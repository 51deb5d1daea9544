package domain

import "testing"

// TestParseCaseNumber: the ways people type a case number, and what is not one.
func TestParseCaseNumber(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" means refused
	}{
		{"KC-2026-000005", "KC-2026-000005"},
		{"КС-2026-000005", "KC-2026-000005"}, // Cyrillic К and С
		{"кс-2026-000005", "KC-2026-000005"},
		{"Кc-2026-000005", "KC-2026-000005"}, // mixed alphabets
		{"kc-2026-000005", "KC-2026-000005"},
		{"KC2026000005", "KC-2026-000005"},
		{"KC-2026000005", "KC-2026-000005"},
		{"KC 2026 000005", "KC-2026-000005"},
		{"  КС 2026 000005 ", "KC-2026-000005"},
		{"КС–2026–000005", "KC-2026-000005"}, // en dashes
		{"КС—2026—000005", "KC-2026-000005"}, // em dashes
		{"KC\u00a02026\u00a0000005", "KC-2026-000005"},
		{"кс 2026 5", "KC-2026-000005"},
		{"KC-2026-123456", "KC-2026-123456"},
		{"KC20265", "KC-2026-000005"},
		{"", ""},
		{"KC", ""},
		{"KC-2026", ""},
		{"KC-2026-", ""},
		{"KC-2026-1234567", ""},
		{"KC-20261-000005", ""},
		{"KC-2026-000-005", ""},
		{"KC20261234567", ""},
		{"Ксения", ""},
		{"Иванова", ""},
		{"XC-2026-000005", ""},
		{"K C-2026-000005", ""},
		{"KC-2026-00000X", ""},
		{"KC-٢٠٢٦-000005", ""}, // Arabic-Indic digits are not ours
		{"2026-000005", ""},
	} {
		got, ok := ParseCaseNumber(tc.in)
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("ParseCaseNumber(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}
