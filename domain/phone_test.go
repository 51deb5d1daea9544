package domain

import "testing"

func TestParsePhone(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"8 916 123-45-67", "+79161234567"},
		{"+7(916)123-45-67", "+79161234567"},
		{"+7 (916) 123 45 67", "+79161234567"},
		{"79161234567", "+79161234567"},
		{"9161234567", "+79161234567"},
		{"(916) 123-45-67", "+79161234567"},
		{"8.916.123.45.67", "+79161234567"},
		{"+7 495 000-00-00", "+74950000000"},
		{"+44 20 7946 0958", "+442079460958"},
		{"+375 29 123-45-67", "+375291234567"},
		{"", ""},
		{"916-12", ""},
		{"+7 916 123", ""},
		{"Иванова", ""},
		{"KC-2025-000001", ""},
		{"8916123456", ""},
		{"0161234567", ""},
		{"+0 916 123 45 67", ""},
		{"1234567890123456", ""},
		{"8 916 123 45 67 ext 2", ""},
	} {
		got, ok := ParsePhone(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("ParsePhone(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{"8 916 123-45-67", "+7(916)1234567", "9161234567", "+44 20 7946 0958"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := ParsePhone(s)
		if !ok {
			return
		}
		// a normalised number parses to itself: typed either way it is the same number
		if again, ok := ParsePhone(p); !ok || again != p {
			t.Fatalf("ParsePhone(%q) = %q, which parses to %q, %v", s, p, again, ok)
		}
	})
}
