package domain

import "testing"

func TestEveryDocumentHasItsGuide(t *testing.T) {
	for _, d := range DocTypes {
		g, ok := docGuide[d.Type]
		if !ok || g.where == "" || g.why == "" {
			t.Errorf("document %s has no entry in docGuide", d.Type)
		}
	}
	if len(docGuide) != len(DocTypes) {
		t.Errorf("docGuide has %d entries, DocTypes %d", len(docGuide), len(DocTypes))
	}
}

func TestMonths(t *testing.T) {
	for n, want := range map[int]string{1: "1 месяц", 3: "3 месяца", 6: "6 месяцев", 11: "11 месяцев", 12: "12 месяцев", 21: "21 месяц", 24: "24 месяца"} {
		if got := months(n); got != want {
			t.Errorf("months(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestPreviewChecklistRefusesUnknownFacts(t *testing.T) {
	for _, q := range []ChecklistQuestion{
		{FacilityType: "castle", LegalCapacity: Capable},
		{FacilityType: ElderlyDisabled, LegalCapacity: "maybe"},
		{FacilityType: ElderlyDisabled, LegalCapacity: Capable, DisabilityGroup: "4"},
	} {
		if _, err := PreviewChecklist(DefaultSettings(), q); ErrorCode(err) != EINVALID {
			t.Errorf("%+v: want invalid, got %v", q, err)
		}
	}
}
