package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"carepath/domain"
	"carepath/store"
)

func (h *harness) logContact(body map[string]any) map[string]any {
	h.t.Helper()
	r := h.do("POST", "/api/v1/contacts", body)
	if r.status != http.StatusCreated {
		h.t.Fatalf("log contact: %d %s", r.status, r.body)
	}
	return r.json(h.t)
}

func contactItems(t *testing.T, r response) []map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("list contacts: %d %s", r.status, r.body)
	}
	var out []map[string]any
	for _, it := range r.json(t)["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// TestContactLog: contacts are logged with and without a case, listed newest first, found by
// topic, text and phone however it is typed, and every read or write of a case's contacts is in
// the access log.
func TestContactLog(t *testing.T) {
	h := newHarness(t)
	h.token = h.tokens[domain.RoleSpecialist]
	caseID, _ := h.createCase()
	logged := func() int64 {
		var n int64
		if err := h.db.Gorm.Raw("SELECT count(*) FROM access_log WHERE case_id = ? AND route LIKE '%contacts%'", caseID).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	first := h.logContact(map[string]any{"case_id": caseID, "channel": "phone", "direction": "inbound", "party": "relative",
		"caller_name": "Кузнецов Олег", "caller_phone": "8 916 123-45-67", "topic": "status",
		"question": "Где сейчас дело мамы?", "answer": "Идёт сбор документов"})
	if first["caller_phone"] != "+79161234567" || first["case_number"] == "" || first["topic_label"] != "Статус дела" {
		t.Fatalf("logged contact: %v", first)
	}
	h.logContact(map[string]any{"case_id": caseID, "channel": "visit", "direction": "inbound", "party": "applicant",
		"caller_name": "Кузнецова Галина", "topic": "documents", "question": "Принесла справку МСЭ"})
	h.logContact(map[string]any{"channel": "phone", "direction": "inbound", "party": "other", "caller_name": "Петрова Анна",
		"caller_phone": "+7 (903) 555-12-34", "topic": "documents", "question": "Какие документы нужны?"})
	if got := logged(); got != 2 {
		t.Fatalf("two contacts of the case logged: want 2 access lines, got %d", got)
	}

	items := contactItems(t, h.do("GET", "/api/v1/cases/"+caseID+"/contacts", nil))
	if len(items) != 2 || items[0]["channel"] != "visit" || items[1]["id"] != first["id"] {
		t.Fatalf("case contacts, newest first: %v", items)
	}
	if got := logged(); got != 3 {
		t.Fatalf("reading the case's contacts: want 3 access lines, got %d", got)
	}

	for _, tc := range []struct {
		query string
		want  []string // caller names, newest first
	}{
		{"q=" + url.QueryEscape("+7(916)123-45-67"), []string{"Кузнецов Олег"}},
		{"q=" + url.QueryEscape("89161234567"), []string{"Кузнецов Олег"}},
		{"q=" + url.QueryEscape("903 555 12 34"), []string{"Петрова Анна"}},
		{"q=" + url.QueryEscape("справку"), []string{"Кузнецова Галина"}},
		{"q=" + url.QueryEscape("кузнецов"), []string{"Кузнецова Галина", "Кузнецов Олег"}},
		{"topic=documents", []string{"Петрова Анна", "Кузнецова Галина"}},
		{"topic=documents&limit=1", []string{"Петрова Анна"}},
		{"q=" + url.QueryEscape("8 916 000-00-00"), nil},
	} {
		items := contactItems(t, h.do("GET", "/api/v1/contacts?"+tc.query, nil))
		var got []string
		for _, it := range items {
			got = append(got, it["caller_name"].(string))
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("contacts?%s: want %v, got %v", tc.query, tc.want, got)
		}
	}
	page := h.do("GET", "/api/v1/contacts?limit=2", nil).json(t)
	next := page["next_cursor"].(string)
	rest := contactItems(t, h.do("GET", "/api/v1/contacts?limit=2&cursor="+url.QueryEscape(next), nil))
	if next == "" || len(rest) != 1 || rest[0]["id"] != first["id"] {
		t.Errorf("second page after %q: %v", next, rest)
	}

	// Bad input changes nothing and names the field.
	var before int64
	h.db.Gorm.Raw("SELECT count(*) FROM contacts").Scan(&before)
	for _, tc := range []struct {
		body   map[string]any
		status int
		field  string
	}{
		{map[string]any{"channel": "pigeon", "direction": "inbound", "party": "other", "topic": "other"}, 400, "channel"},
		{map[string]any{"channel": "phone", "direction": "inbound", "party": "other", "topic": "other", "caller_phone": "позвоните"}, 400, "caller_phone"},
		{map[string]any{"channel": "phone", "direction": "inbound", "party": "other", "topic": "other", "follow_up_due": "2001-01-01"}, 400, "follow_up_due"},
		{map[string]any{"case_id": "00000000-0000-4000-8000-000000000001", "channel": "phone", "direction": "inbound", "party": "other", "topic": "other"}, 404, ""},
		{map[string]any{"channel": "phone", "direction": "outbound", "party": "other", "topic": "other", "follow_up_of": first["id"]}, 409, "follow_up_of"},
	} {
		r := h.do("POST", "/api/v1/contacts", tc.body)
		if r.status != tc.status || (tc.field != "" && r.json(t)["field"] != tc.field) {
			t.Errorf("%v: want %d on %q, got %d %s", tc.body, tc.status, tc.field, r.status, r.body)
		}
	}
	var after int64
	h.db.Gorm.Raw("SELECT count(*) FROM contacts").Scan(&after)
	if after != before {
		t.Errorf("refused contacts were written: %d rows, then %d", before, after)
	}
	if r := h.do("GET", "/api/v1/contacts?follow_up=soon", nil); r.status != http.StatusBadRequest {
		t.Errorf("follow_up=soon: want 400, got %d", r.status)
	}
	if r := h.do("GET", "/api/v1/cases/00000000-0000-4000-8000-000000000001/contacts", nil); r.status != http.StatusNotFound {
		t.Errorf("contacts of no case: want 404, got %d", r.status)
	}
}

// TestPhonesAreNotStoredInPlainText reads the raw tables: no phone logged on the hotline is
// there in any form a person would type or the parser would write.
func TestPhonesAreNotStoredInPlainText(t *testing.T) {
	h := newHarness(t)
	caseID, _ := h.createCase()
	h.logContact(map[string]any{"case_id": caseID, "channel": "phone", "direction": "inbound", "party": "relative",
		"caller_phone": "+7 (916) 987-65-43", "topic": "status"})
	var dump []string
	if err := h.db.Gorm.Raw("SELECT t::text FROM contacts t").Scan(&dump).Error; err != nil {
		t.Fatal(err)
	}
	var raw [][]byte
	h.db.Gorm.Raw("SELECT caller_phone FROM contacts").Scan(&raw)
	for _, row := range append(dump, string(bytes.Join(raw, nil))) {
		for _, form := range []string{"9876543", "987-65-43", "987 65 43", "79169876543"} {
			if strings.Contains(row, form) {
				t.Fatalf("the contacts table holds the phone in plain text (%q): %s", form, row)
			}
		}
	}
}

// TestContactFollowUp: a promised call-back on a case is a deadline of the specialist who took
// the call: listed as open, reminded to that specialist (not the case's assignee), escalated to
// the supervisors when missed, and met by the call-back.
func TestContactFollowUp(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.token = h.tokens[domain.RoleSpecialist]
	me := h.do("GET", "/api/v1/me", nil).json(t)["id"].(string)
	caseID, _ := h.createCase()
	today := domain.DateOf(time.Now())
	promise := h.logContact(map[string]any{"case_id": caseID, "channel": "phone", "direction": "inbound", "party": "relative",
		"caller_name": "Кузнецов Олег", "topic": "voucher", "question": "Когда путёвка?", "answer": "Уточню и перезвоню",
		"follow_up_due": today.AddDays(1).String()})
	h.logContact(map[string]any{"channel": "phone", "direction": "inbound", "party": "other", "topic": "other",
		"follow_up_due": today.AddDays(3).String()})

	open := contactItems(t, h.do("GET", "/api/v1/contacts?follow_up=open", nil))
	if len(open) != 2 || open[0]["id"] != promise["id"] {
		t.Fatalf("open follow-ups, soonest first: %v", open)
	}
	cs, err := h.cases.Get(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	var followUp *domain.Deadline
	for i, d := range cs.Deadlines {
		if d.Kind == domain.DeadlineContactFollowUp {
			followUp = &cs.Deadlines[i]
		}
	}
	if followUp == nil || followUp.Ref != promise["id"] || followUp.DueOn != today.AddDays(1) {
		t.Fatalf("the case's deadlines have no follow-up for %v: %+v", promise["id"], cs.Deadlines)
	}

	// The scan two days on: the reminder (day before) is spent, the missed stage tells the
	// specialist who promised and the supervisors.
	notices := store.NewNotices(h.db).OpensPersonal(h.sealer)
	supervisors, err := notices.Supervisors(ctx)
	if err != nil || len(supervisors) == 0 {
		t.Fatalf("supervisors: %v %v", supervisors, err)
	}
	later := time.Now().Add(50 * time.Hour)
	res, err := notices.ScanDue(ctx, later, 100, func(r domain.DueReminder) domain.ReminderOutcome {
		return domain.PlanReminder(domain.DefaultSettings(), r, supervisors, later)
	})
	if err != nil || res.Due == 0 {
		t.Fatalf("scan: %+v %v", res, err)
	}
	var rows []struct{ Happening, Audience, Recipient string }
	h.db.Gorm.Raw("SELECT happening, audience, recipient FROM notices WHERE case_id = ? AND happening LIKE 'deadline%'", caseID).Scan(&rows)
	var toTaker, toSupervisor bool
	for _, r := range rows {
		toTaker = toTaker || (r.Audience == domain.AudienceSpecialist && r.Recipient == me && r.Happening == string(domain.HappeningDeadlineMissed))
		toSupervisor = toSupervisor || (r.Audience == domain.AudienceSupervisor && r.Happening == string(domain.HappeningDeadlineMissed))
	}
	if !toTaker || !toSupervisor {
		t.Fatalf("a missed call-back must tell the specialist who promised it (%s) and the supervisors: %+v", me, rows)
	}

	// The call-back meets the follow-up (late: missed) and closes its deadline.
	h.logContact(map[string]any{"case_id": caseID, "channel": "phone", "direction": "outbound", "party": "relative",
		"topic": "voucher", "answer": "Перезвонили: путёвка в работе", "follow_up_of": promise["id"]})
	open = contactItems(t, h.do("GET", "/api/v1/contacts?follow_up=open", nil))
	if len(open) != 1 || open[0]["id"] == promise["id"] {
		t.Fatalf("after the call-back one follow-up stays open: %v", open)
	}
	var state string
	h.db.Gorm.Raw("SELECT state::text FROM deadlines WHERE kind = 'contact_follow_up' AND ref = ?", promise["id"]).Scan(&state)
	if state != "met" {
		t.Fatalf("call-back made in time: deadline %q, want met", state)
	}
	if r := h.do("POST", "/api/v1/contacts", map[string]any{"channel": "phone", "direction": "outbound", "party": "relative",
		"topic": "voucher", "follow_up_of": promise["id"]}); r.status != http.StatusConflict {
		t.Errorf("a second call-back for the same promise: want 409, got %d", r.status)
	}
}

// makeResident puts a case in the example home as a resident, as if admitted: the contract's
// examples of contact requests need someone living in a home.
func (h *harness) makeResident(caseID string) {
	h.t.Helper()
	err := h.db.Gorm.Exec("UPDATE cases SET state = 'residing', facility_id = ? WHERE id = ?", exampleFacilityID, caseID).Error
	if err != nil {
		h.t.Fatal(err)
	}
}

// matrixLead is a lead with consent, as a postman submits it.
func matrixLead() domain.NewLead {
	on := domain.DateOf(time.Now())
	return domain.NewLead{FullName: "Смирнова Анна Петровна", BirthDate: domain.NewDate(1936, 4, 12), Address: "Москва, ул. Почтовая, 5",
		Phone: "8 916 555-44-33", Answers: domain.LeadAnswers{LivesAlone: true, Mobility: "housebound", SelfCare: "needs_help", Memory: "fine"},
		Consent: true, ConsentOn: &on, Source: "ОПС 101000"}
}

// lead submits a lead as the system and returns its id.
func (h *harness) lead() string {
	h.t.Helper()
	r, err := h.api.Hotline.SubmitLead(context.Background(), domain.System, matrixLead())
	if err != nil {
		h.t.Fatal(err)
	}
	return r.ID
}

// clockNow is the harness's time (its services run on the wall clock).
func (h *harness) clockNow() time.Time { return time.Now() }
