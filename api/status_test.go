package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"carepath/api"
	"carepath/domain"
)

func (e *accessEnv) status(number, code, addr string) response {
	e.t.Helper()
	headers := []string{"X-Request-Id", "status-test"}
	if addr != "" {
		headers = append(headers, "X-Forwarded-For", addr)
	}
	return e.do("POST", "/api/v1/status", "", map[string]any{"case_number": number, "access_code": code}, headers...)
}

func TestStatusView(t *testing.T) {
	e := newAccessEnv(t, true)
	ctx := context.Background()
	// A case on the waiting list behind one other of its type, and a case collecting documents.
	first, _, err := e.service.Register(ctx, system, e.newCase())
	if err != nil {
		t.Fatal(err)
	}
	e.walk(first, "", domain.RequestDocuments, domain.SubmitForReview, domain.RecognizeNeed)
	second, code, err := e.service.Register(ctx, system, e.newCase())
	if err != nil {
		t.Fatal(err)
	}
	e.walk(second, "", domain.RequestDocuments, domain.SubmitForReview, domain.RecognizeNeed)

	res := e.status(second.Number, code, "198.51.100.1")
	if res.status != http.StatusOK {
		t.Fatalf("status lookup: %d %s", res.status, res.body)
	}
	v := res.json(t)
	if v["state_label"] != "Очередь на путёвку" || v["stage"] != float64(4) || v["stage_count"] != float64(domain.StageCount) {
		t.Errorf("stage: %v", v)
	}
	if v["waiting_position"] != float64(2) {
		t.Errorf("waiting position: want 2, got %v", v["waiting_position"])
	}
	// The waiting part: the place, the list's length, and no estimate without admissions, with a
	// reason; only counts, nothing of the case ahead.
	w, _ := v["waiting"].(map[string]any)
	basis, _ := w["estimate_basis"].(map[string]any)
	if w["position"] != float64(2) || w["total"] != float64(2) || w["estimate"] != nil || len(w) != 4 {
		t.Errorf("waiting part: %v", v["waiting"])
	}
	if basis["reason"] != domain.EstimateTooFewWording || basis["admissions"].(float64) >= domain.EstimateMinAdmissions || basis["segment_position"] != float64(2) || len(basis) != 5 {
		t.Errorf("estimate basis: %v", basis)
	}
	for _, other := range []string{first.ID, first.Number, strings.ToLower(first.ID)} {
		if bytes.Contains(res.body, []byte(other)) {
			t.Errorf("the relatives' view shows the case ahead (%s): %s", other, res.body)
		}
	}
	if v["center_phone"] == "" || v["state_entered_on"] != domain.DateOf(time.Now()).String() {
		t.Errorf("phone and date: %v", v)
	}
	// Nothing medical, no type of home, no other person's data.
	for _, secret := range []string{"psycho", "ПНИ", "психиатр", "Кузнецов Павел", "112-233", "Менжинского", "incapacitated", "ИППСУ-1"} {
		if bytes.Contains(res.body, []byte(secret)) {
			t.Errorf("the relatives' view shows %q: %s", secret, res.body)
		}
	}

	// Collecting documents: the missing ones by name, the psychiatric commission in neutral words,
	// and by when.
	third, code3, err := e.service.Register(ctx, system, e.newCase())
	if err != nil {
		t.Fatal(err)
	}
	e.walk(third, "", domain.RequestDocuments)
	res = e.status(strings.ToLower(third.Number), " "+strings.ToLower(code3[:4])+"-"+code3[4:]+" ", "198.51.100.1")
	if res.status != http.StatusOK {
		t.Fatalf("status lookup: %d %s", res.status, res.body)
	}
	v = res.json(t)
	missing := fmt.Sprint(v["missing_documents"])
	if !strings.Contains(missing, "Паспорт") || !strings.Contains(missing, "Заключение врачебной комиссии") || strings.Contains(missing, "психиатр") {
		t.Errorf("missing documents: %s", missing)
	}
	if v["next_step"] == nil || v["next_step_by"] == nil {
		t.Errorf("next step and by when: %v", v)
	}
	for _, d := range e.load(third.ID).Deadlines {
		if d.Kind == domain.DeadlineDocumentCollection && d.State == domain.DeadlineOpen && v["next_step_by"] != d.DueOn.String() {
			t.Errorf("next step by %v, the document collection deadline is %s", v["next_step_by"], d.DueOn)
		}
	}
	if bytes.Contains(res.body, []byte("psycho")) || bytes.Contains(res.body, []byte("ПНИ")) {
		t.Errorf("the view tells the type of home: %s", res.body)
	}
}

// TestStatusEnumeration: a wrong number and a wrong code get the same status and body.
func TestStatusEnumeration(t *testing.T) {
	e := newAccessEnv(t, true)
	c := e.load(e.caseID)
	wrongCode := e.status(c.Number, "WRONGCODE234", "198.51.100.2")
	wrongNumber := e.status("KC-2031-999999", e.caseCode, "198.51.100.3")
	if wrongCode.status != http.StatusNotFound || wrongNumber.status != http.StatusNotFound {
		t.Fatalf("want 404 for both, got %d and %d", wrongCode.status, wrongNumber.status)
	}
	if !bytes.Equal(wrongCode.body, wrongNumber.body) {
		t.Errorf("bodies differ:\nwrong code:   %s\nwrong number: %s", wrongCode.body, wrongNumber.body)
	}
	if wrongCode.header.Get("Content-Type") != wrongNumber.header.Get("Content-Type") {
		t.Errorf("content types differ")
	}
	// Both count towards the lockout alike: five failures from one client lock that client out
	// of a number that does not exist exactly as out of one that does.
	for i := 0; i < 5; i++ {
		e.status(c.Number, "WRONGCODE234", "198.51.100.10")
		e.status("KC-2031-999999", "WRONGCODE234", "198.51.100.10")
	}
	a, b := e.status(c.Number, "WRONGCODE234", "198.51.100.10"), e.status("KC-2031-999999", "WRONGCODE234", "198.51.100.10")
	if a.status != http.StatusTooManyRequests || b.status != http.StatusTooManyRequests || !bytes.Equal(a.body, b.body) {
		t.Errorf("lockout differs between an existing and a missing number: %d %s / %d %s", a.status, a.body, b.status, b.body)
	}
	// Malformed input is refused before any lookup.
	if res := e.status("12345", "X", ""); res.status != http.StatusBadRequest {
		t.Errorf("malformed number: want 400, got %d", res.status)
	}
}

// reasonMessage is the Russian message of a problem's first reason.
func reasonMessage(t *testing.T, res response) string {
	t.Helper()
	reasons, _ := res.json(t)["reasons"].([]any)
	if len(reasons) == 0 {
		t.Fatalf("no reasons: %s", res.body)
	}
	return fmt.Sprint(reasons[0].(map[string]any)["message"])
}

// TestStatusLockout: a stranger's guesses never lock out the holder of the right code, and
// guessing stays bounded: per (case, client) with a back-off, per client across cases, and a
// ceiling per case that a new code from the center clears.
func TestStatusLockout(t *testing.T) {
	e := newAccessEnv(t, true)
	c := e.load(e.caseID)
	ctx := context.Background()
	phone := e.access.Settings.CenterPhone
	const stranger, family = "203.0.113.5", "198.51.100.9"

	// The stranger guesses every five minutes for a day; the family looks it up after each
	// guess and is always answered.
	checked, lastWait := 0, 0
	for step := 0; step < 24*12; step++ {
		res := e.status(c.Number, "WRONGCODE234", stranger)
		switch res.status {
		case http.StatusNotFound:
			checked++
			if msg := reasonMessage(t, res); !strings.Contains(msg, phone) {
				t.Fatalf("the wrong-code message lacks the center's phone: %s", msg)
			}
		case http.StatusTooManyRequests:
			wait, err := strconv.Atoi(res.header.Get("Retry-After"))
			if err != nil || wait < 1 {
				t.Fatalf("Retry-After %q", res.header.Get("Retry-After"))
			}
			lastWait = max(lastWait, wait)
			if msg := reasonMessage(t, res); !strings.Contains(msg, phone) {
				t.Fatalf("the lockout message lacks the center's phone: %s", msg)
			}
		default:
			t.Fatalf("guess %d: %d %s", step, res.status, res.body)
		}
		if res := e.status(c.Number, e.caseCode, family); res.status != http.StatusOK {
			t.Fatalf("after the stranger's guess %d the family hears %d %s", step, res.status, res.body)
		}
		e.clock.advance(5 * time.Minute)
	}
	// Five guesses, then one after 15 minutes, 30, 60 … : a dozen a day, not 288.
	if checked < 5 || checked > 12 {
		t.Errorf("the stranger's guesses checked in a day: %d, want 5..12", checked)
	}
	if lastWait <= 15*60 {
		t.Errorf("the back-off did not grow: longest wait %d s", lastWait)
	}

	// The family's own typos: the right code still works at once and clears them.
	e.clock.advance(25 * time.Hour)
	for i := 0; i < 3; i++ {
		e.status(c.Number, "TYPO", family)
	}
	if res := e.status(c.Number, e.caseCode, family); res.status != http.StatusOK {
		t.Fatalf("right code after typos: %d", res.status)
	}
	if n := e.count("SELECT count(*) FROM status_failures WHERE key = ?", "p:"+c.Number+"|a:"+family); n != 0 {
		t.Errorf("the right code left %d counters of its client", n)
	}

	// Many strangers at once reach the case's ceiling: then everyone waits, and a new code from
	// the center clears it.
	e.access.Settings.StatusMaxPerNumber = 20
	for i := 0; i < 20; i++ {
		e.status(c.Number, "WRONGCODE234", fmt.Sprintf("192.0.2.%d", 100+i/5))
	}
	if res := e.status(c.Number, e.caseCode, family); res.status != http.StatusTooManyRequests {
		t.Fatalf("at the ceiling: want 429, got %d", res.status)
	}
	_, code, err := e.service.RotateAccessCode(ctx, system, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res := e.status(c.Number, code, family); res.status != http.StatusOK {
		t.Fatalf("a new code after the ceiling: want 200, got %d %s", res.status, res.body)
	}
	e.caseCode = code
	e.access.Settings.StatusMaxPerNumber = domain.DefaultAccessSettings().StatusMaxPerNumber

	// Thirty failures from one address, each on a different number, lock the address.
	other, otherCode, err := e.service.Register(ctx, system, e.newCase())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		if res := e.status(fmt.Sprintf("KC-2030-%06d", i), "WRONGCODE234", "192.0.2.7"); res.status != http.StatusNotFound {
			t.Fatalf("address failure %d: want 404, got %d", i+1, res.status)
		}
	}
	if res := e.status(other.Number, otherCode, "192.0.2.7"); res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" {
		t.Errorf("after 30 failures from one address: want 429 with Retry-After, got %d", res.status)
	}
	// The same case from another address is answered.
	if res := e.status(other.Number, otherCode, "192.0.2.8"); res.status != http.StatusOK {
		t.Errorf("another address: want 200, got %d", res.status)
	}
	// An IPv6 customer is one /64.
	for i := 0; i < 30; i++ {
		e.status(fmt.Sprintf("KC-2030-%06d", 100+i), "WRONGCODE234", fmt.Sprintf("2001:db8:1:2::%x", i+1))
	}
	if res := e.status(other.Number, otherCode, "2001:db8:1:2:ffff::1"); res.status != http.StatusTooManyRequests {
		t.Errorf("30 failures from one IPv6 /64: want 429, got %d", res.status)
	}
}

// TestAccessCodeRotation: a specialist gives a case a new code; the old one stops working.
func TestAccessCodeRotation(t *testing.T) {
	e := newAccessEnv(t, true)
	c := e.load(e.caseID)
	old := e.caseCode
	res := e.do("POST", "/api/v1/cases/"+c.ID+"/access-code", e.tokens["specialist"], nil)
	if res.status != http.StatusOK {
		t.Fatalf("rotate: %d %s", res.status, res.body)
	}
	code := res.json(t)["access_code"].(string)
	if code == old || len(code) != domain.AccessCodeLength {
		t.Fatalf("new code %q", code)
	}
	if res := e.status(c.Number, old, "198.51.100.50"); res.status != http.StatusNotFound {
		t.Errorf("old code: want 404, got %d", res.status)
	}
	if res := e.status(c.Number, code, "198.51.100.51"); res.status != http.StatusOK {
		t.Errorf("new code: want 200, got %d %s", res.status, res.body)
	}
	h, err := e.service.History(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := h[len(h)-1]
	if last.Event != "rotate_access_code" || last.ActorID != e.userIDs["specialist"] || strings.Contains(fmt.Sprint(last.Payload), code) {
		t.Errorf("history of the rotation: %+v", last)
	}
}

// TestStatusLockoutIgnoresForgedForwarding: without a trusted proxy, X-Forwarded-For is the
// client's own say-so and does not give it a fresh address for every try.
func TestStatusLockoutIgnoresForgedForwarding(t *testing.T) {
	e := newAccessEnv(t, false)
	for i := 0; i < 30; i++ {
		e.status(fmt.Sprintf("KC-2030-%06d", i), "WRONGCODE234", fmt.Sprintf("198.18.0.%d", i+1))
	}
	c := e.load(e.caseID)
	if res := e.status(c.Number, e.caseCode, "198.18.1.1"); res.status != http.StatusTooManyRequests {
		t.Errorf("30 failures from one peer with forged X-Forwarded-For: want 429, got %d", res.status)
	}
}

// statusRaw posts a raw body to the status lookup.
func (e *accessEnv) statusRaw(body, contentType, addr string) response {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.srv.URL+"/api/v1/status", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("X-Request-Id", "status-raw")
	req.Header.Set("X-Forwarded-For", addr)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 400 && !strings.HasPrefix(res.Header.Get("Content-Type"), api.ProblemContentType) {
		e.t.Errorf("%q: error %d is %q, not problem+json", body, res.StatusCode, res.Header.Get("Content-Type"))
	}
	return response{res.StatusCode, res.Header, b}
}

// TestStatusFastPathRefusesAlike: the lookup's own reading of its body (readStatusRequest) and
// its own encoding answer every input exactly as the generic validation, decoding and encoding
// of the other routes do: the same status, headers and bytes, for bad bodies (400 naming the
// field) and good ones alike.
func TestStatusFastPathRefusesAlike(t *testing.T) {
	e := newAccessEnv(t, true)
	c := e.load(e.caseID)
	ctx := context.Background()
	collecting, code2, err := e.service.Register(ctx, system, e.newCase())
	if err != nil {
		t.Fatal(err)
	}
	e.walk(collecting, "", domain.RequestDocuments)
	num, code := c.Number, e.caseCode
	body := func(n, c string) string { return `{"case_number":"` + n + `","access_code":"` + c + `"}` }
	const json = "application/json"
	cases := []struct {
		name, body, contentType string
		want                    int
	}{
		{"right code", body(num, code), json, http.StatusOK},
		{"right code, checklist shown", body(collecting.Number, code2), json, http.StatusOK},
		{"lower-case number", body(strings.ToLower(num), code), json, http.StatusOK},
		{"keys swapped, spaces", " {\n\t\"access_code\" : \"" + code + "\" ,\r\n \"case_number\":\"" + num + "\"} ", json, http.StatusOK},
		{"charset", body(num, code), "application/json; charset=utf-8", http.StatusOK},
		{"escaped", `{"case_number":"KC\u002d` + num[3:] + `","access_code":"` + code + `"}`, json, http.StatusOK},
		{"wrong code", body(num, "WRONGCODE234"), json, http.StatusNotFound},
		{"wrong number", body("KC-2031-999998", code), json, http.StatusNotFound},
		{"duplicate key", `{"case_number":"KC-2031-999997","case_number":"` + num + `","access_code":"` + code + `"}`, json, http.StatusOK},
		{"pattern", body("12345", "X"), json, http.StatusBadRequest},
		{"trailing newline, read as a space", body(num+`\n`, "X"), json, http.StatusNotFound},
		{"Cyrillic КС", body("КС"+num[2:], code), json, http.StatusOK},
		{"no dashes, spaces", body("kc "+num[3:7]+" "+num[8:], code), json, http.StatusOK},
		{"no dashes", body("KC"+num[3:7]+num[8:], code), json, http.StatusOK},
		{"not a number", body("Иванова", "X"), json, http.StatusBadRequest},
		{"number too long", body(num+"0", "X"), json, http.StatusBadRequest},
		{"empty code", body(num, ""), json, http.StatusBadRequest},
		{"code too long", body(num, strings.Repeat("A", 65)), json, http.StatusBadRequest},
		{"code of 64", body("KC-2031-999996", strings.Repeat("A", 64)), json, http.StatusNotFound},
		{"unicode code", body("KC-2031-999995", "КОД"), json, http.StatusNotFound},
		{"no code", `{"case_number":"` + num + `"}`, json, http.StatusBadRequest},
		{"no number", `{"access_code":"X"}`, json, http.StatusBadRequest},
		{"extra field", `{"case_number":"` + num + `","access_code":"X","extra":1}`, json, http.StatusBadRequest},
		{"upper-case keys", `{"CASE_NUMBER":"` + num + `","ACCESS_CODE":"X"}`, json, http.StatusBadRequest},
		{"number as number", `{"case_number":123,"access_code":"X"}`, json, http.StatusBadRequest},
		{"null number", `{"case_number":null,"access_code":"X"}`, json, http.StatusBadRequest},
		{"code as bool", `{"case_number":"` + num + `","access_code":true}`, json, http.StatusBadRequest},
		{"array", `[]`, json, http.StatusBadRequest},
		{"string", `"x"`, json, http.StatusBadRequest},
		{"null", `null`, json, http.StatusBadRequest},
		{"empty object", `{}`, json, http.StatusBadRequest},
		{"empty body", ``, json, http.StatusBadRequest},
		{"truncated", `{"case_number":"` + num + `"`, json, http.StatusBadRequest},
		{"two values", body(num, code) + ` {}`, json, http.StatusBadRequest},
		{"trailing garbage", body(num, code) + `x`, json, http.StatusBadRequest},
		{"text/plain", body(num, code), "text/plain", http.StatusBadRequest},
		{"no content type", body(num, code), "", http.StatusBadRequest},
		{"large", `{"case_number":"` + num + `","access_code":"` + code + `","pad":"` + strings.Repeat(" ", 4000) + `"}`, json, http.StatusBadRequest},
	}
	for i, tc := range cases {
		addr := fmt.Sprintf("198.51.100.%d", 100+i)
		e.server.SetStatusFastPath(true)
		fast := e.statusRaw(tc.body, tc.contentType, addr)
		e.server.SetStatusFastPath(false)
		generic := e.statusRaw(tc.body, tc.contentType, addr)
		if fast.status != tc.want {
			t.Errorf("%s: want %d, got %d %s", tc.name, tc.want, fast.status, fast.body)
		}
		if fast.status != generic.status || !bytes.Equal(fast.body, generic.body) {
			t.Errorf("%s: the fast path answers %d %s\nthe generic path %d %s", tc.name, fast.status, fast.body, generic.status, generic.body)
		}
		for _, h := range []string{"Content-Type", "Cache-Control", "Retry-After", "X-Request-Id"} {
			if fast.header.Get(h) != generic.header.Get(h) {
				t.Errorf("%s: %s %q on the fast path, %q on the generic one", tc.name, h, fast.header.Get(h), generic.header.Get(h))
			}
		}
		if tc.want == http.StatusBadRequest && !bytes.Contains(fast.body, []byte(`"field":`)) && tc.name != "text/plain" && tc.name != "no content type" {
			t.Logf("%s: %s", tc.name, fast.body)
		}
	}
	e.server.SetStatusFastPath(true)
}

// TestStatusSpeaksGently: a relative of a woman who died reads a gentle wording in the
// feminine, with what happens next and whom to call; of a man discharged, the masculine.
func TestStatusSpeaksGently(t *testing.T) {
	e := newAccessEnv(t, true)
	ctx := context.Background()
	for _, tc := range []struct {
		sex   string
		event domain.EventName
		label string
		next  string
	}{
		{"female", domain.RecordDeath, "Скончалась", "соболезнования"},
		{"male", domain.RecordDeath, "Скончался", "соболезнования"},
		{"female", domain.Discharge, "Выбыла из учреждения", "позвоните"},
		{"male", domain.Discharge, "Выбыл из учреждения", "позвоните"},
		{"female", domain.Hospitalize, "Госпитализирована", "Возвращение"},
	} {
		n := e.newCase()
		n.Applicant.Gender = tc.sex
		c, code, err := e.service.Register(ctx, system, n)
		if err != nil {
			t.Fatal(err)
		}
		c = e.walk(c, e.facility["own"], domain.RequestDocuments, domain.SubmitForReview, domain.RecognizeNeed, domain.IssueVoucher, domain.Admit)
		today := domain.DateOf(e.clock.now())
		cmd := domain.EventCommand{Event: tc.event, Reason: "по заявлению", DateOfDeath: &today}
		if _, err := e.service.Fire(ctx, system, c.ID, c.Version, cmd); err != nil {
			t.Fatal(err)
		}
		res := e.status(c.Number, code, "198.51.100.7")
		if res.status != http.StatusOK {
			t.Fatalf("%s %s: %d %s", tc.sex, tc.event, res.status, res.body)
		}
		v := res.json(t)
		if v["state_label"] != tc.label || !strings.Contains(fmt.Sprint(v["next_step"]), tc.next) {
			t.Errorf("%s %s: %q, next %q", tc.sex, tc.event, v["state_label"], v["next_step"])
		}
	}
}

// TestStatusViewOfATransfer: a resident waiting for another home (transfer_pending, keeping the
// bed) is on that type's list, and the relatives see the place and the estimate as for a waiting
// case, and nothing of the case ahead.
func TestStatusViewOfATransfer(t *testing.T) {
	e := newAccessEnv(t, true)
	ctx := context.Background()
	ahead := e.newCase()
	ahead.FacilityType, ahead.Applicant.FullName = domain.ElderlyDisabled, "Орлова Вера Петровна"
	a, _, err := e.service.Register(ctx, system, ahead)
	if err != nil {
		t.Fatal(err)
	}
	e.walk(a, "", domain.RequestDocuments, domain.SubmitForReview, domain.RecognizeNeed)
	id, code := e.residingCase(system, e.facility["own"])
	r := e.load(id)
	if _, err := e.service.Fire(ctx, system, r.ID, r.Version, domain.EventCommand{Event: domain.RequestTransfer,
		FacilityType: domain.ElderlyDisabled, Reason: "ближе к семье"}); err != nil {
		t.Fatal(err)
	}
	r = e.load(id)
	if r.State != domain.TransferPending || r.WaitingPosition != 2 {
		t.Fatalf("the resident: %s, place %d; want transfer_pending, second", r.State, r.WaitingPosition)
	}
	res := e.status(r.Number, code, "198.51.100.70")
	if res.status != http.StatusOK {
		t.Fatalf("status lookup: %d %s", res.status, res.body)
	}
	v := res.json(t)
	w, _ := v["waiting"].(map[string]any)
	basis, _ := w["estimate_basis"].(map[string]any)
	if v["waiting_position"] != float64(2) || w["position"] != float64(2) || w["total"] != float64(2) || len(w) != 4 {
		t.Errorf("the waiting part of a transfer: %v %v", v["waiting_position"], v["waiting"])
	}
	if basis["reason"] != domain.EstimateTooFewWording || basis["segment_position"] != float64(2) {
		t.Errorf("estimate basis: %v", basis)
	}
	for _, other := range []string{a.ID, a.Number, "Орлова", "elderly"} {
		if bytes.Contains(res.body, []byte(other)) {
			t.Errorf("the relatives' view shows %q: %s", other, res.body)
		}
	}
}

// TestStatusNamesTheVoucherHome: the holder of the code learns which home the voucher is for,
// and the stages passed with their days.
func TestStatusNamesTheVoucherHome(t *testing.T) {
	e := newAccessEnv(t, true)
	c, code, err := e.service.Register(context.Background(), system, e.newCase())
	if err != nil {
		t.Fatal(err)
	}
	e.walk(c, e.facility["own"], domain.RequestDocuments, domain.SubmitForReview, domain.RecognizeNeed, domain.IssueVoucher)
	var name string
	if err := e.db.Gorm.Raw("SELECT name FROM facilities WHERE id = ?", e.facility["own"]).Scan(&name).Error; err != nil || name == "" {
		t.Fatalf("facility name %q: %v", name, err)
	}
	res := e.status(c.Number, code, "198.51.100.60")
	v := res.json(t)
	if v["voucher_home"] != name {
		t.Errorf("voucher_home %v, want %q", v["voucher_home"], name)
	}
	steps, _ := v["timeline"].([]any)
	if len(steps) != 5 || steps[4].(map[string]any)["label"] != "Путёвка выдана" {
		t.Errorf("timeline %v", v["timeline"])
	}
	// Without the code, nothing.
	if res := e.status(c.Number, "WRONGCODE234", "198.51.100.61"); bytes.Contains(res.body, []byte(name)) {
		t.Errorf("a wrong code learns the home: %s", res.body)
	}
}
