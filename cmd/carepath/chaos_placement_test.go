package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// chaosCall is TestChaos's client: one request as the holder of token, sent to either serve
// process; it returns the status, the version in the ETag and the body (0 when neither answered).
type chaosCall func(token, method, path, ifMatch string, body any) (int, int, map[string]any)

// chaosPlacement drives the placement side of the chaos mix: cases taken to the waiting list,
// vouchers for one home's beds, admissions and discharges that free beds, and the offers the
// freed beds make accepted or declined. It remembers every offer answered 2xx and every contact
// logged 2xx, for the end-of-run checks.
type chaosPlacement struct {
	call           chaosCall
	specialist     string
	home           string
	ack            func(id string, v int)
	mu             sync.Mutex
	accepted       map[string]string // offer id -> case id, accepted 2xx
	declined       map[string]string // offer id -> case id, declined 2xx
	contacts       map[string]string // contact id -> case id, logged 2xx
	waiting        int               // cases taken to the waiting list
	vouchers       int               // issue_voucher answered 2xx
	admitted       int
	freed          int // discharges and deaths answered 2xx
	offerConflicts int // accepts and declines refused because another answer won
}

// chaosHome is the home the placement mix fills: two women's sections, small enough that
// vouchers race for the last bed and every discharge makes an offer.
var chaosHome = map[string]any{"name": "Пансионат «Хаос»", "type": "elderly_disabled", "district": "Северный",
	"sections": []any{
		map[string]any{"code": "w1", "title": "Женское отделение 1", "sex": "female", "capacity": 3},
		map[string]any{"code": "w2", "title": "Женское отделение 2", "sex": "female", "capacity": 2},
	}}

func newChaosPlacement(call chaosCall, specialist, home string, ack func(string, int)) *chaosPlacement {
	return &chaosPlacement{call: call, specialist: specialist, home: home, ack: ack,
		accepted: map[string]string{}, declined: map[string]string{}, contacts: map[string]string{}}
}

func ok2xx(st int) bool { return st >= 200 && st < 300 }

// event fires one lifecycle event at version v; it returns the new version, or 0 when refused.
func (p *chaosPlacement) event(id string, v int, body map[string]any) int {
	st, nv, _ := p.call(p.specialist, "POST", "/api/v1/cases/"+id+"/events", strconv.Quote(strconv.Itoa(v)), body)
	if ok2xx(st) && nv > 0 {
		p.ack(id, nv)
		return nv
	}
	return 0
}

// logContact logs a hotline call about the case (or about none when id is empty).
func (p *chaosPlacement) logContact(id string) {
	body := map[string]any{"channel": "phone", "direction": "inbound", "party": "relative", "caller_name": "Кузнецов Олег",
		"caller_phone": "8 916 123-45-67", "topic": "status", "question": "Где сейчас дело мамы?", "answer": "Идёт сбор документов"}
	if id != "" {
		body["case_id"] = id
	}
	st, _, m := p.call(p.specialist, "POST", "/api/v1/contacts", "", body)
	if st == http.StatusCreated {
		cid, _ := m["id"].(string)
		p.mu.Lock()
		p.contacts[cid] = id
		p.mu.Unlock()
	}
}

// readContacts looks contacts up as the hotline does: a case's log and a search by phone.
func (p *chaosPlacement) readContacts(id string) {
	p.call(p.specialist, "GET", "/api/v1/cases/"+id+"/contacts", "", nil)
	p.call(p.specialist, "GET", "/api/v1/contacts?q="+url.QueryEscape("+7 (916) 123-45-67"), "", nil)
}

// waitingCase registers a case and takes it to the waiting list; "" when a step was refused.
func (p *chaosPlacement) waitingCase(newCase map[string]any) (string, int) {
	id, v, _, _ := p.registerWaiting(newCase)
	return id, v
}

// registerWaiting is waitingCase, which also returns the case's number and access code.
func (p *chaosPlacement) registerWaiting(newCase map[string]any) (id string, v int, number, code string) {
	st, v, c := p.call(p.specialist, "POST", "/api/v1/cases", "", newCase)
	if st != http.StatusCreated {
		return "", 0, "", ""
	}
	id, _ = c["id"].(string)
	number, _ = c["number"].(string)
	code, _ = c["access_code"].(string)
	p.ack(id, v)
	if v = p.event(id, v, map[string]any{"event": "request_documents"}); v == 0 {
		return "", 0, "", ""
	}
	_, _, c = p.call(p.specialist, "GET", "/api/v1/cases/"+id, "", nil)
	list, _ := c["checklist"].([]any)
	issued := time.Now().AddDate(0, 0, -10).Format(time.DateOnly)
	for _, d := range list {
		doc, _ := d.(map[string]any)
		typ, _ := doc["type"].(string)
		st, nv, _ := p.call(p.specialist, "PUT", "/api/v1/cases/"+id+"/documents/"+typ, strconv.Quote(strconv.Itoa(v)),
			map[string]any{"status": "received", "issued_on": issued})
		if !ok2xx(st) || nv == 0 {
			return "", 0, "", ""
		}
		v = nv
		p.ack(id, v)
	}
	if v = p.event(id, v, map[string]any{"event": "submit_for_review"}); v == 0 {
		return "", 0, "", ""
	}
	yesterday := time.Now().AddDate(0, 0, -1).Format(time.DateOnly)
	if v = p.event(id, v, map[string]any{"event": "recognize_need", "ippsu_number": "ИППСУ-хаос", "ippsu_date": yesterday}); v == 0 {
		return "", 0, "", ""
	}
	p.mu.Lock()
	p.waiting++
	p.mu.Unlock()
	return id, v, number, code
}

type chaosResident struct {
	id string
	v  int
}

// run is one placement client until ctx ends (and at most 100,000 rounds).
func (p *chaosPlacement) run(ctx context.Context, newCase map[string]any) {
	var residents []chaosResident
	for i := 0; i < 100000 && ctx.Err() == nil; i++ {
		id, v := p.waitingCase(newCase)
		if id == "" {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		p.logContact(id)
		// a voucher straight from the list, passing over whoever waits before (the reason given)
		if rand.IntN(2) == 0 {
			if nv := p.event(id, v, map[string]any{"event": "issue_voucher", "facility_id": p.home, "skip_reason": "хаос: проверка"}); nv != 0 {
				p.mu.Lock()
				p.vouchers++
				p.mu.Unlock()
				if rand.IntN(4) == 0 {
					p.event(id, nv, map[string]any{"event": "cancel_voucher", "reason": "передумали"})
				} else if av := p.event(id, nv, map[string]any{"event": "admit"}); av != 0 {
					p.mu.Lock()
					p.admitted++
					p.mu.Unlock()
					residents = append(residents, chaosResident{id, av})
				}
			}
		}
		// a resident leaves: the bed is offered to the first woman waiting
		if len(residents) > 0 && rand.IntN(2) == 0 {
			k := rand.IntN(len(residents))
			r := residents[k]
			residents = append(residents[:k], residents[k+1:]...)
			ev := map[string]any{"event": "discharge", "reason": "переезд к дочери"}
			if rand.IntN(3) == 0 {
				ev = map[string]any{"event": "record_death", "date_of_death": time.Now().Format(time.DateOnly)}
			}
			if p.event(r.id, r.v, ev) != 0 {
				p.mu.Lock()
				p.freed++
				p.mu.Unlock()
			}
		}
		p.answerOffers()
		if i%5 == 0 {
			p.readContacts(id)
		}
	}
}

// answerOffers accepts most open offers and declines the rest; the other client may answer
// the same offer at the same moment, and only one answer may win.
func (p *chaosPlacement) answerOffers() {
	st, _, m := p.call(p.specialist, "GET", "/api/v1/offers?state=proposed", "", nil)
	if st != http.StatusOK {
		return
	}
	items, _ := m["items"].([]any)
	for _, it := range items {
		o, _ := it.(map[string]any)
		id, _ := o["id"].(string)
		caseID, _ := o["case_id"].(string)
		if rand.IntN(3) == 0 {
			st, _, _ := p.call(p.specialist, "POST", "/api/v1/offers/"+id+"/decline", "", map[string]any{"reason": "applicant_refused"})
			p.answered(st, p.declined, id, caseID)
			continue
		}
		st, v, _ := p.call(p.specialist, "POST", "/api/v1/offers/"+id+"/accept", "", nil)
		if ok2xx(st) && v > 0 {
			p.ack(caseID, v)
		}
		p.answered(st, p.accepted, id, caseID)
	}
}

func (p *chaosPlacement) answered(st int, into map[string]string, offer, caseID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case ok2xx(st):
		into[offer] = caseID
	case st == http.StatusConflict || st == http.StatusPreconditionFailed:
		p.offerConflicts++
	}
}

// check returns the breaches of the placement side: an offer answered 2xx whose answer or
// history line is missing, a contact logged 2xx that is not there, a section holding more beds
// than it has, a case holding two beds.
func (p *chaosPlacement) check(conn *pgx.Conn) []string {
	ctx := context.Background()
	var out []string
	count := func(q string, args ...any) int {
		var n int
		if err := conn.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			out = append(out, fmt.Sprintf("%s: %v", q, err))
			return -1
		}
		return n
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, caseID := range p.accepted {
		if count("SELECT count(*) FROM offers WHERE id = $1 AND state = 'accepted' AND case_id = $2", id, caseID) != 1 {
			out = append(out, fmt.Sprintf("offer %s accepted 2xx is not accepted in the database", id))
		}
		if count("SELECT count(*) FROM case_history WHERE case_id = $1 AND event = 'issue_voucher' AND payload->>'offer_id' = $2", caseID, id) != 1 {
			out = append(out, fmt.Sprintf("offer %s accepted 2xx has no voucher in case %s's history", id, caseID))
		}
	}
	for id, caseID := range p.declined {
		if count("SELECT count(*) FROM offers WHERE id = $1 AND state = 'declined'", id) != 1 {
			out = append(out, fmt.Sprintf("offer %s declined 2xx is not declined in the database", id))
		}
		if count("SELECT count(*) FROM case_history WHERE case_id = $1 AND event = 'decline_offer' AND payload->>'offer_id' = $2", caseID, id) != 1 {
			out = append(out, fmt.Sprintf("offer %s declined 2xx has no history line in case %s", id, caseID))
		}
	}
	for id, caseID := range p.contacts {
		if count("SELECT count(*) FROM contacts WHERE id = $1 AND coalesce(case_id::text, '') = $2", id, caseID) != 1 {
			out = append(out, fmt.Sprintf("contact %s logged 2xx is missing", id))
		}
	}
	if n := count(`SELECT count(*) FROM facility_sections WHERE occupied + reserved > capacity`); n != 0 {
		out = append(out, fmt.Sprintf("%d sections count more beds taken than they have", n))
	}
	if n := count(`SELECT count(*) FROM (SELECT h.facility_id, h.section_code, count(*) AS n FROM bed_holds h GROUP BY 1, 2) h
		JOIN facility_sections s ON s.facility_id = h.facility_id AND s.code = h.section_code WHERE h.n > s.capacity`); n != 0 {
		out = append(out, fmt.Sprintf("%d sections hold more beds than they have: a bed double-booked", n))
	}
	if n := count(`SELECT count(*) FROM (SELECT case_id FROM bed_holds GROUP BY case_id HAVING count(*) > 1) d`); n != 0 {
		out = append(out, fmt.Sprintf("%d cases hold two beds at once", n))
	}
	return out
}

func (p *chaosPlacement) summary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("placement: %d cases to the waiting list, %d vouchers, %d admitted, %d beds freed; offers: %d accepted, %d declined, %d answers lost to another; %d contacts logged",
		p.waiting, p.vouchers, p.admitted, p.freed, len(p.accepted), len(p.declined), p.offerConflicts, len(p.contacts))
}
