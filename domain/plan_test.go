package domain

import (
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

const (
	testGuardianship = "0a000000-0000-4000-8000-000000000001"
	testHealth       = "0a000000-0000-4000-8000-000000000002"
	testFacilityAg   = "0a000000-0000-4000-8000-000000000003"
	testOldHomeAg    = "0a000000-0000-4000-8000-000000000004"
	testSpecialist   = "0b000000-0000-4000-8000-000000000001"
	testSupervisor1  = "0b000000-0000-4000-8000-000000000002"
	testSupervisor2  = "0b000000-0000-4000-8000-000000000003"
)

// planCase is an incapacitated applicant for a psychoneurological home with a representative
// by SMS, a niece by e-mail, and a neighbour who did not consent.
func planCase() *Case {
	return &Case{ID: "0c000000-0000-4000-8000-000000000001", Number: "KC-2025-000042", State: CollectingDocuments, Version: 3,
		FacilityType: Psychoneurological,
		Applicant: Applicant{FullName: "Иванова Мария Петровна", BirthDate: MustDate("1941-03-15"), Gender: "female",
			SNILS: "112-233-445 95", Address: "Москва, ул. Летчика Бабушкина, д. 1", LegalCapacity: Incapacitated, DisabilityGroup: "1"},
		Contacts: []Contact{
			{Name: "Иванов Сергей Николаевич", Relation: "son", Phone: "+7 916 123-45-67", LegalRepresentative: true, ConsentToNotices: true, PreferredChannel: "sms"},
			{Name: "Петрова Анна", Relation: "niece", Email: "Anna@Example.org", ConsentToNotices: true, PreferredChannel: "email"},
			{Name: "Сидоров Пётр", Relation: "neighbour", Phone: "+7 903 000-00-00", ConsentToNotices: false, PreferredChannel: "sms"},
			{Name: "Кузнецова Ольга", Relation: "daughter", Phone: "+7 903 111-11-11", ConsentToNotices: true, PreferredChannel: "none"},
		},
		HealthOrgID: testHealth, GuardianshipID: testGuardianship, AssigneeID: testSpecialist}
}

var (
	newHome = Facility{ID: "0d000000-0000-4000-8000-000000000001", Name: "Психоневрологический интернат № 30", Type: Psychoneurological, AgencyID: testFacilityAg}
	oldHome = Facility{ID: "0d000000-0000-4000-8000-000000000002", Name: "ПНИ № 5", Type: Psychoneurological, AgencyID: testOldHomeAg}
	noAgent = Facility{ID: "0d000000-0000-4000-8000-000000000003", Name: "Дом без учётной записи", Type: Psychoneurological}
)

func routes(ns []Notice) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Audience+"/"+n.Channel+"/"+n.Recipient)
	}
	sort.Strings(out)
	return out
}

// TestWhoIsTold walks the table of domain.md "Who is told what" happening by happening.
func TestWhoIsTold(t *testing.T) {
	rep := "representative/sms/+7 916 123-45-67"
	niece := "relative/email/anna@example.org"
	guard := "guardianship/webhook/" + testGuardianship
	health := "health/webhook/" + testHealth
	home := "facility/webhook/" + testFacilityAg
	old := "facility/webhook/" + testOldHomeAg
	spec := "specialist/email/" + testSpecialist
	sup1, sup2 := "supervisor/email/"+testSupervisor1, "supervisor/email/"+testSupervisor2
	capable := func(c *Case) { c.Applicant.LegalCapacity = Capable }
	limited := func(c *Case) { c.Applicant.LegalCapacity = Limited }
	unassigned := func(c *Case) { c.AssigneeID = "" }
	noHealth := func(c *Case) { c.HealthOrgID = "" }
	dl := &Deadline{ID: 7, Kind: DeadlineReviewDecision, DueOn: MustDate("2025-03-14")}
	tests := []struct {
		name   string
		h      Happening
		change func(*Case)
		facts  func(*noticeFacts)
		want   []string
	}{
		{"registered", HappeningRegistered, nil, nil, []string{rep, niece, guard, spec}},
		{"registered, capable: no guardianship", HappeningRegistered, capable, nil, []string{rep, niece, spec}},
		{"registered, limited: guardianship", HappeningRegistered, limited, nil, []string{rep, niece, guard, spec}},
		{"registered, unassigned", HappeningRegistered, unassigned, nil, []string{rep, niece, guard}},
		{"handed to another specialist", HappeningAssigned, nil, nil, []string{spec}},
		{"documents from the applicant", HappeningDocumentsRequested, nil, func(f *noticeFacts) { f.docs = []DocType{DocPassport} }, []string{rep, niece}},
		{"documents the clinic issues", HappeningDocumentsRequested, nil, func(f *noticeFacts) { f.docs = []DocType{DocPassport, DocMedicalCard} }, []string{rep, niece, health}},
		{"documents the clinic issues, no clinic named", HappeningDocumentsMissing, noHealth, func(f *noticeFacts) { f.docs = []DocType{DocMedicalCard} }, []string{rep, niece}},
		{"document expiring", HappeningDocumentsExpiring, nil, func(f *noticeFacts) { f.docs = []DocType{DocNoContraindications} }, []string{rep, niece, health}},
		{"recognised", HappeningNeedRecognized, nil, nil, []string{rep, niece, guard}},
		{"refused", HappeningNeedRefused, nil, nil, []string{rep, niece, guard}},
		{"refused, capable", HappeningNeedRefused, capable, nil, []string{rep, niece}},
		{"voucher issued", HappeningVoucherIssued, nil, func(f *noticeFacts) { f.facilities = []Facility{newHome} }, []string{rep, niece, guard, home}},
		{"voucher issued, home without an agency", HappeningVoucherIssued, nil, func(f *noticeFacts) { f.facilities = []Facility{noAgent} }, []string{rep, niece, guard}},
		{"voucher cancelled", HappeningVoucherCancelled, nil, func(f *noticeFacts) { f.facilities = []Facility{newHome} }, []string{rep, niece, guard, home}},
		{"voucher expiring", HappeningVoucherExpiring, nil, func(f *noticeFacts) { f.facilities = []Facility{newHome} }, []string{rep, niece, guard, home}},
		{"admitted by transfer", HappeningAdmitted, nil, func(f *noticeFacts) { f.facilities = []Facility{newHome, oldHome} }, []string{rep, niece, guard, health, home, old}},
		{"transfer", HappeningTransferRequested, nil, func(f *noticeFacts) { f.facilities = []Facility{oldHome} }, []string{rep, niece, guard, health, old}},
		{"discharged", HappeningDischarged, nil, func(f *noticeFacts) { f.facilities = []Facility{newHome} }, []string{rep, niece, guard, health, home}},
		{"died", HappeningDied, nil, func(f *noticeFacts) { f.facilities = []Facility{newHome} }, []string{rep, niece, guard, health, home}},
		{"hospital stay", HappeningHospitalized, nil, func(f *noticeFacts) { f.facilities = []Facility{newHome} }, []string{rep, niece, guard, health}},
		{"hospital stay ends", HappeningHospitalStayEnded, nil, nil, []string{rep, niece, guard, health}},
		{"leave", HappeningLeaveStarted, nil, func(f *noticeFacts) { f.facilities = []Facility{newHome} }, []string{rep, niece, guard}},
		{"leave ends, capable", HappeningLeaveEnded, capable, nil, []string{rep, niece}},
		{"withdrawn with a voucher", HappeningWithdrawn, nil, func(f *noticeFacts) { f.facilities = []Facility{newHome} }, []string{rep, niece, guard, home}},
		{"deadline at risk", HappeningDeadlineAtRisk, nil, func(f *noticeFacts) { f.deadline = dl }, []string{spec}},
		{"deadline at risk, unassigned", HappeningDeadlineAtRisk, unassigned, func(f *noticeFacts) { f.deadline = dl }, []string{sup1, sup2}},
		{"deadline missed", HappeningDeadlineMissed, nil, func(f *noticeFacts) { f.deadline = dl }, []string{spec, sup1, sup2}},
		{"deadline missed, unassigned", HappeningDeadlineMissed, unassigned, func(f *noticeFacts) { f.deadline = dl }, []string{sup1, sup2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := planCase()
			if tt.change != nil {
				tt.change(c)
			}
			f := noticeFacts{happening: tt.h, c: c, at: time.Date(2025, 3, 10, 12, 0, 0, 0, Moscow), source: "v3",
				supervisors: []string{testSupervisor1, testSupervisor2}}
			if tt.facts != nil {
				tt.facts(&f)
			}
			got := routes(planNotices(DefaultSettings(), f))
			want := slices.Clone(tt.want)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("recipients:\n got %v\nwant %v", got, want)
			}
		})
	}
}

func TestEveryEventChoosesItsHappening(t *testing.T) {
	for _, e := range Events {
		h, ok := eventHappening[e.Name]
		if !ok {
			t.Errorf("event %s is not in eventHappening: decide whom it tells", e.Name)
			continue
		}
		if _, ok := tellFor(h); h != "" && !ok {
			t.Errorf("event %s tells %q, which is not in the table", e.Name, h)
		}
	}
	for _, d := range HappeningDefs() {
		if d.Label == "" {
			t.Errorf("happening %s has no label", d.Name)
		}
	}
	for _, h := range Happenings() {
		if !slices.ContainsFunc(NoticeRoutes(), func(r NoticeRoute) bool { return r.Happening == h }) {
			t.Errorf("happening %s reaches no one", h)
		}
	}
}

func TestNoticeKeysAreDeterministicAndOpaque(t *testing.T) {
	f := noticeFacts{happening: HappeningRegistered, c: planCase(), at: time.Date(2025, 3, 10, 12, 0, 0, 0, Moscow), source: "v1"}
	a, b := planNotices(DefaultSettings(), f), planNotices(DefaultSettings(), f)
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("planned %d and %d notices", len(a), len(b))
	}
	keys := map[string]bool{}
	for i := range a {
		if a[i].IdempotencyKey != b[i].IdempotencyKey || a[i].ID != b[i].ID {
			t.Errorf("notice %d: planning twice gave different keys or ids", i)
		}
		if keys[a[i].IdempotencyKey] {
			t.Errorf("two recipients share key %s", a[i].IdempotencyKey)
		}
		keys[a[i].IdempotencyKey] = true
		if strings.Contains(a[i].IdempotencyKey, "916") || strings.Contains(a[i].IdempotencyKey, "@") {
			t.Errorf("key %s shows the recipient", a[i].IdempotencyKey)
		}
	}
	f.source = "v2"
	for i, n := range planNotices(DefaultSettings(), f) {
		if n.IdempotencyKey == a[i].IdempotencyKey {
			t.Errorf("another cause made the same key %s", n.IdempotencyKey)
		}
	}
}

// TestNoticeDataPrivacy checks the data each audience's notice carries, before any template.
func TestNoticeDataPrivacy(t *testing.T) {
	c := planCase()
	f := noticeFacts{happening: HappeningDocumentsRequested, c: c, at: time.Date(2025, 3, 10, 12, 0, 0, 0, Moscow), source: "v3",
		docs: []DocType{DocPassport, DocPsychiatricCommission, DocDisabilityCertificate}, reason: "диагноз F20, нужна справка",
		facilities: []Facility{newHome}, details: map[string]string{"valid_until": "2025-04-01", "ippsu_number": "77-1"}}
	ns := planNotices(DefaultSettings(), f)
	byAudience := map[string]Notice{}
	for _, n := range ns {
		byAudience[n.Audience+"/"+n.Channel] = n
	}
	sms := byAudience["representative/sms"]
	keys := make([]string, 0, len(sms.Data))
	for k := range sms.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !slices.Equal(keys, []string{"case_number", "first_name", "happening"}) || sms.Data["first_name"] != "Мария" {
		t.Errorf("an SMS may carry the first name and the case number only, got %v", sms.Data)
	}
	rel := byAudience["relative/email"]
	for _, k := range []string{"full_name", "reason", "facilities", "facility_ids", "ippsu_number", "birth_date"} {
		if _, ok := rel.Data[k]; ok {
			t.Errorf("a relative who is not the representative got %s: %v", k, rel.Data[k])
		}
	}
	if got := rel.Data["documents"]; !slices.Equal(got.([]string), []string{"Паспорт"}) || rel.Data["other_documents"] != 2 {
		t.Errorf("a relative sees non-medical document names and a count of medical ones, got %v, %v", got, rel.Data["other_documents"])
	}
	health := byAudience["health/webhook"]
	if got := health.Data["document_types"]; !slices.Equal(got.([]string), []string{"disability_certificate", "psychiatric_commission"}) &&
		!slices.Equal(got.([]string), []string{"psychiatric_commission", "disability_certificate"}) {
		t.Errorf("the clinic hears of the documents it issues only, got %v", got)
	}
	if _, ok := health.Data["reason"]; ok {
		t.Errorf("the clinic got the specialist's reason")
	}
}

func TestSMSWaitOutQuietHours(t *testing.T) {
	c := planCase()
	night := time.Date(2025, 3, 10, 23, 30, 0, 0, Moscow)
	ns := planNotices(DefaultSettings(), noticeFacts{happening: HappeningRegistered, c: c, at: night, source: "v1"})
	for _, n := range ns {
		want := night
		if n.Channel == NoticeSMS {
			want = time.Date(2025, 3, 11, 9, 0, 0, 0, Moscow)
		}
		if !n.NotBefore.Equal(want) {
			t.Errorf("%s/%s at 23:30: not before %s, want %s", n.Audience, n.Channel, n.NotBefore.In(Moscow), want)
		}
	}
}

func TestQuietHours(t *testing.T) {
	msk := func(h, m int) time.Time { return time.Date(2025, 3, 10, h, m, 0, 0, Moscow) }
	q := DefaultQuietHours
	tests := []struct {
		at        time.Time
		quiet     bool
		wantUntil time.Time
	}{
		{msk(8, 59), true, msk(9, 0)},
		{msk(9, 0), false, time.Time{}},
		{msk(20, 59), false, time.Time{}},
		{msk(21, 0), true, msk(9, 0).AddDate(0, 0, 1)},
		{msk(0, 0), true, msk(9, 0)},
		{time.Date(2025, 3, 10, 18, 30, 0, 0, time.UTC), true, msk(9, 0).AddDate(0, 0, 1)}, // 21:30 in Moscow
	}
	for _, tt := range tests {
		until, quiet := q.Until(tt.at)
		if quiet != tt.quiet || quiet && !until.Equal(tt.wantUntil) {
			t.Errorf("%s: quiet %v until %s, want %v until %s", tt.at, quiet, until, tt.quiet, tt.wantUntil)
		}
	}
	if _, quiet := (QuietHours{}).Until(msk(23, 0)); quiet {
		t.Errorf("no window should never be quiet")
	}
	day := QuietHours{From: 13, To: 14}
	if _, quiet := day.Until(msk(13, 30)); !quiet {
		t.Errorf("a window that does not wrap midnight")
	}
	for in, want := range map[string]QuietHours{"21-09": {21, 9}, "21:00-09:00": {21, 9}, "off": {}, "": {}} {
		got, err := ParseQuietHours(in)
		if err != nil || got != want {
			t.Errorf("ParseQuietHours(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"21", "25-09", "a-b", "21-9-3"} {
		if _, err := ParseQuietHours(in); ErrorCode(err) != EINVALID {
			t.Errorf("ParseQuietHours(%q): want EINVALID, got %v", in, err)
		}
	}
}
