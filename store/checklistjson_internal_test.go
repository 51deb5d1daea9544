package store

import (
	"encoding/json"
	"reflect"
	"testing"

	"carepath/domain"
)

var checklistSeeds = []string{
	`[]`,
	` [ ] `,
	`[{"note": "ok", "type": "application", "status": "received", "required": true, "supplier": "applicant", "issued_on": "2026-11-10", "valid_until": null}, {"type": "passport", "status": "requested", "required": false, "supplier": "applicant", "issued_on": null, "valid_until": "2024-02-29"}]`,
	`[{"type":"snils","status":"received","required":true,"supplier":"applicant","issued_on":"2026-10-29","valid_until":"2027-04-29"}]`,
	`[{"type": "a", "note": "кириллица и \"кавычки\""}]`,
	`[{"type": "a", "note": "tab\there"}]`,
	`[{"type": "a", "Type": "b"}]`,
	`[{"type": "a", "type": "b"}]`,
	`[{"type": "a", "extra": 1}]`,
	`[{"type": "a", "issued_on": ""}]`,
	`[{"type": "a", "issued_on": "2023-02-29"}]`,
	`[{"type": "a", "issued_on": "2023-13-01"}]`,
	`[{"type": "a", "issued_on": "2023-1-011"}]`,
	`[{"type": "a", "required": null}]`,
	`[{"type": "a", "note": null}]`,
	`[{"type": "a", "required": tru}]`,
	`[{"type": "a"},]`,
	`[{"type": "a"}] x`,
	`[{"type": "bad \xff utf-8"}]`,
	`[{}]`,
	`null`,
	`{}`,
	`[`,
}

// TestDecodeChecklist: the checklist scanner gives what encoding/json gives, or leaves the
// input to it.
func TestDecodeChecklist(t *testing.T) {
	for _, s := range checklistSeeds {
		compareChecklist(t, []byte(s))
	}
}

func FuzzDecodeChecklist(f *testing.F) {
	for _, s := range checklistSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { compareChecklist(t, b) })
}

func compareChecklist(t *testing.T, b []byte) {
	t.Helper()
	got, err := DecodeChecklist(b)
	var want domain.Checklist
	wantErr := json.Unmarshal(b, &want)
	if (err != nil) != (wantErr != nil) {
		t.Errorf("%s: error %v, encoding/json %v", b, err, wantErr)
		return
	}
	if err == nil && !reflect.DeepEqual(got, want) && (len(got) != 0 || len(want) != 0 || (got == nil) != (want == nil)) {
		t.Errorf("%s:\n got %+v\nwant %+v", b, got, want)
	}
}

// TestAppendChecklist: the checklist encoder writes what json.Marshal writes.
func TestAppendChecklist(t *testing.T) {
	day := domain.NewDate(2026, 2, 28)
	var zero domain.Date
	lists := []domain.Checklist{nil, {}, {
		{Type: "passport", Status: "received", Required: true, Supplier: "applicant", IssuedOn: &day, ValidUntil: &zero},
		{Type: "a<b>&c", Status: "requested", Supplier: "кто-то \"в кавычках\"\n", Note: "tab\t \u2028 \xff"},
		{Type: "note", Note: "обычная заметка"},
	}}
	for _, s := range checklistSeeds {
		if cl, err := DecodeChecklist([]byte(s)); err == nil {
			lists = append(lists, cl)
		}
	}
	for _, cl := range lists {
		want, err := json.Marshal(cl)
		if err != nil {
			t.Fatal(err)
		}
		if got := domain.AppendJSONChecklist(nil, cl); string(got) != string(want) {
			t.Errorf("AppendJSONChecklist:\n got %s\nwant %s", got, want)
		}
	}
}
