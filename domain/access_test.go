package domain

import (
	"testing"
	"time"
)

// TestPartyAndEvents: the case-level rules for agencies, including a transfer, where the old
// home keeps its resident and the new one holds the voucher.
func TestPartyAndEvents(t *testing.T) {
	old := Actor{ID: "a-old", Kind: ActorAgency, Role: string(AgencyFacility), Facilities: []string{"f-old"}}
	neu := Actor{ID: "a-new", Kind: ActorAgency, Role: string(AgencyFacility), Facilities: []string{"f-new"}}
	other := Actor{ID: "a-x", Kind: ActorAgency, Role: string(AgencyFacility), Facilities: []string{"f-x"}}
	health := Actor{ID: "h", Kind: ActorAgency, Role: string(AgencyHealth)}
	guard := Actor{ID: "g", Kind: ActorAgency, Role: string(AgencyGuardianship)}
	mfc := Actor{ID: "m", Kind: ActorAgency, Role: string(AgencyMFC)}
	spec := Actor{ID: "u", Kind: ActorUser, Role: RoleSpecialist}
	admin := Actor{ID: "ad", Kind: ActorUser, Role: RoleAdmin}
	c := &Case{State: VoucherIssued, FacilityID: "f-old", VoucherFacilityID: "f-new", HealthOrgID: "h", GuardianshipID: "g", FiledByAgencyID: "m"}
	for _, tc := range []struct {
		name  string
		actor Actor
		ev    EventName
		want  bool
	}{
		{"the new home admits on its voucher", neu, Admit, true},
		{"the old home cannot admit to the new one", old, Admit, false},
		{"the old home reports its resident's discharge", old, Discharge, true},
		{"the new home cannot discharge someone not yet its resident", neu, Discharge, false},
		{"another home nothing", other, Admit, false},
		{"health reports a hospital stay", health, Hospitalize, true},
		{"health cannot discharge", health, Discharge, false},
		{"guardianship fires no events", guard, Admit, false},
		{"mfc fires no events", mfc, Withdraw, false},
		{"a specialist fires any event", spec, Withdraw, true},
		{"an admin fires none", admin, Withdraw, false},
		{"the system fires any", System, Admit, true},
	} {
		if got := MayFire(tc.actor, c, tc.ev); got != tc.want {
			t.Errorf("%s: MayFire = %v", tc.name, got)
		}
	}
	for _, a := range []Actor{old, neu, health, guard, mfc} {
		if !PartyTo(a, c) {
			t.Errorf("%s %s should be party", a.Role, a.ID)
		}
	}
	for _, a := range []Actor{other, {ID: "h2", Kind: ActorAgency, Role: string(AgencyHealth)}, {ID: "s", Kind: ActorAgency, Role: string(AgencySocialProtection)}, spec} {
		if PartyTo(a, c) {
			t.Errorf("%s %s should not be party", a.Role, a.ID)
		}
	}
	for _, tc := range []struct {
		actor Actor
		doc   DocType
		want  bool
	}{
		{health, DocMedicalCard, true}, {health, DocPsychiatricCommission, true}, {health, DocPassport, false},
		{guard, DocGuardianshipDecision, true}, {guard, DocMedicalCard, false}, {old, DocMedicalCard, false},
		{mfc, DocApplication, false}, {spec, DocPassport, true},
	} {
		if got := MayRecordDocument(tc.actor, c, tc.doc); got != tc.want {
			t.Errorf("%s records %s: %v", tc.actor.Role, tc.doc, got)
		}
	}
	if err := Authorize(health, ActCaseRead); ErrorCode(err) != ENOTFOUND {
		t.Errorf("an agency refused: want not_found, got %v", err)
	}
	if err := Authorize(admin, ActCaseRead); ErrorCode(err) != EFORBIDDEN {
		t.Errorf("an admin refused a case: want forbidden, got %v", err)
	}
	// Every event an agency may report exists in the lifecycle table.
	for kind, evs := range AgencyEvents {
		for _, ev := range evs {
			if _, ok := LookupEvent(ev); !ok {
				t.Errorf("%s may report unknown event %s", kind, ev)
			}
		}
	}
}

func TestAgencyViewCutsPersonalData(t *testing.T) {
	c := &Case{ID: "c", Number: "KC-2025-000001", State: Residing, FacilityType: Psychoneurological, FacilityID: "f",
		Applicant: Applicant{FullName: "Иванова Мария", SNILS: "112-233-445 95", Passport: "45 03", Address: "Москва", LegalCapacity: Incapacitated},
		Contacts:  []Contact{{Name: "Сын", LegalRepresentative: true}, {Name: "Соседка"}},
		Checklist: Checklist{{Type: DocMedicalCard, Status: DocReceived}, {Type: DocPassport, Status: DocReceived}, {Type: DocGuardianshipDecision, Status: DocMissing}}}
	mfc := AgencyView(Actor{ID: "m", Kind: ActorAgency, Role: string(AgencyMFC)}, c, time.Now())
	if mfc.FacilityType != "" || mfc.Applicant.SNILS != "***-***-*** 95" || len(mfc.Documents) != 1 || mfc.Documents[0].Type != DocPassport {
		t.Errorf("mfc view: %+v", mfc)
	}
	g := AgencyView(Actor{ID: "g", Kind: ActorAgency, Role: string(AgencyGuardianship)}, c, time.Now())
	if len(g.Representatives) != 1 || g.Representatives[0].Name != "Сын" || g.FacilityType != Psychoneurological {
		t.Errorf("guardianship view: %+v", g)
	}
	h := AgencyView(Actor{ID: "h", Kind: ActorAgency, Role: string(AgencyHealth)}, c, time.Now())
	if len(h.Documents) != 1 || h.Documents[0].Type != DocMedicalCard || len(h.Representatives) != 0 {
		t.Errorf("health view: %+v", h)
	}
}
