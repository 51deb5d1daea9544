package api

import (
	"bytes"
	"encoding/json"
	"testing"

	"carepath/domain"
)

// TestAppendStatusView: the hand encoder writes the bytes encoding/json writes, escapes included.
func TestAppendStatusView(t *testing.T) {
	due := domain.NewDate(2026, 3, 9)
	for _, v := range []*domain.StatusView{
		{},
		{CaseNumber: "KC-2025-000123", StateLabel: "Сбор документов", Stage: 2, StageCount: 6, StateEnteredOn: domain.NewDate(2025, 1, 31),
			NextStep: "Представить <документы> & \"справки\"", NextStepBy: &due, MissingDocuments: []string{"Паспорт", "a\u2028b\u2029c", "tab\there\x01", "bad \xff utf-8", `back\slash`, "cut \xe2\x80", "end\u2029", "€ ‧ \u2027"},
			WaitingPosition: 17, CenterPhone: "+7 (495) 000-00-00"},
		{CaseNumber: "KC-2025-000124", MissingDocuments: []string{}, CenterPhone: "😀"},
	} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendStatusView(nil, v); !bytes.Equal(got, want) {
			t.Errorf("hand encoding differs:\n got %s\nwant %s", got, want)
		}
	}
}
