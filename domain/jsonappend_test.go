package domain_test

import (
	"encoding/json"
	"testing"
	"time"

	"carepath/domain"
)

// The hand-written appenders write what encoding/json writes.

func TestAppendJSONStringIsEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "KC-2025-000123", "Сбор документов", "a\"b", `a\b`, "<script>", "a&b", "tab\there",
		"\x00\x1f", "line\u2028sep\u2029", "\xff\xfe", "ok\xc3", "ё", "日本", "😀", "\u007f"} {
		want, _ := json.Marshal(s)
		if got := domain.AppendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"Очередь на путёвку", "a\u2028", "\xe2\x80", "<>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := domain.AppendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	})
}

func TestDateAppendJSONIsTimeFormat(t *testing.T) {
	days := []domain.Date{domain.NewDate(1, 1, 2), domain.NewDate(999, 12, 31), domain.NewDate(9999, 12, 31), domain.NewDate(10000, 1, 1), domain.NewDate(-5, 3, 4)}
	for d := domain.NewDate(1899, 12, 25); d.Before(domain.NewDate(2101, 1, 10)); d = d.AddDays(17) {
		days = append(days, d)
	}
	for _, d := range days {
		want := `"` + d.Time().Format(time.DateOnly) + `"`
		if got := d.AppendJSON(nil); string(got) != want {
			t.Errorf("%s: got %s, want %s", d, got, want)
		}
	}
	if got := (domain.Date{}).AppendJSON(nil); string(got) != "null" {
		t.Errorf("the zero date: got %s, want null", got)
	}
}
