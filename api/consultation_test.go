package api_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"carepath/domain"
)

// TestChecklistPreviewIsTheCaseChecklist: for every combination of the facts a caller can give,
// the consultation lists exactly the documents, in the same order, of the checklist of a case
// registered with those facts.
func TestChecklistPreviewIsTheCaseChecklist(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	combinations := 0
	for _, ft := range domain.FacilityTypes {
		for _, lc := range domain.LegalCapacities {
			for _, group := range domain.DisabilityGroups {
				for _, represented := range []bool{false, true} {
					combinations++
					n := domain.NewCase{Channel: domain.ChannelHotline, FacilityType: ft,
						Applicant: domain.Applicant{FullName: "Проверка Консультации", BirthDate: domain.NewDate(1940, 1, 1), Gender: "female",
							SNILS: "112-233-445 95", Address: "Москва", LegalCapacity: lc, DisabilityGroup: group},
						Contacts: []domain.Contact{{Name: "Родственник", Relation: "son", Phone: "+7 916 000-00-00", LegalRepresentative: represented}}}
					if lc == domain.Incapacitated {
						n.GuardianshipID = h.tokens["guardianship_id"]
					}
					c, _, err := h.svc.Register(ctx, domain.System, n)
					if err != nil {
						t.Fatal(err)
					}
					var want []string
					for _, d := range c.Checklist {
						want = append(want, string(d.Type))
					}
					r := h.do("POST", "/api/v1/checklist-preview", map[string]any{"facility_type": ft, "legal_capacity": lc,
						"disability_group": group, "represented": represented})
					if r.status != http.StatusOK {
						t.Fatalf("preview: %d %s", r.status, r.body)
					}
					var got []string
					for _, d := range r.json(t)["documents"].([]any) {
						doc := d.(map[string]any)
						got = append(got, doc["type"].(string))
						def, _ := domain.LookupDocType(domain.DocType(doc["type"].(string)))
						if doc["title"] != def.Label || doc["where_obtained"] == "" || doc["why_needed"] == "" || doc["validity"] == "" {
							t.Fatalf("document %v is not explained", doc)
						}
					}
					if !slices.Equal(got, want) {
						t.Errorf("%s/%s/group %s/represented %v: preview %v, case checklist %v", ft, lc, group, represented, got, want)
					}
				}
			}
		}
	}
	if combinations != 72 {
		t.Fatalf("walked %d combinations", combinations)
	}
}

func TestChecklistPreviewRefusesAndLimits(t *testing.T) {
	h := newHarness(t)
	h.token = "" // public
	for _, body := range []any{
		map[string]any{"facility_type": "castle", "legal_capacity": "capable"},
		map[string]any{"facility_type": "veterans", "legal_capacity": "capable", "snils": "1"},
		"{",
	} {
		if r := h.do("POST", "/api/v1/checklist-preview", body); r.status != http.StatusBadRequest {
			t.Errorf("%v: want 400, got %d %s", body, r.status, r.body)
		}
	}
	for i := 0; i < 200; i++ {
		r := h.do("POST", "/api/v1/checklist-preview", map[string]any{"facility_type": "veterans", "legal_capacity": "capable"})
		if r.status == http.StatusTooManyRequests {
			if r.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			return
		}
		if r.status != http.StatusOK {
			t.Fatalf("preview %d: %d %s", i, r.status, r.body)
		}
	}
	t.Fatal("200 consultations from one address a minute were all answered")
}
