package api_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"carepath/domain"
)

func (h *harness) numbers(r response) []string {
	h.t.Helper()
	var out []string
	for _, it := range r.json(h.t)["items"].([]any) {
		out = append(out, it.(map[string]any)["number"].(string))
	}
	return out
}

func TestWaitingListOrder(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	north, _ := h.createHome(homeBody)
	southBody := map[string]any{"name": "Пансионат «Южный»", "type": "elderly_disabled", "district": "Южный",
		"sections": []any{map[string]any{"code": "m", "title": "Мужское", "sex": "male", "capacity": 5}}}
	south, _ := h.createHome(southBody)

	// Five cases; their recognition dates are set by hand, the priorities through the API.
	type entry struct {
		gender, priority, day string
		districts             []string
		bedridden             bool
	}
	entries := []entry{
		{"female", "general", "2026-01-10", nil, false},                      // 0
		{"male", "general", "2026-01-05", []string{"Южный"}, false},          // 1
		{"female", "first_turn", "2026-03-01", nil, false},                   // 2
		{"male", "general", "2026-01-05", nil, true},                         // 3: same day as 1, registered later
		{"female", "out_of_turn", "2026-06-01", []string{"Северный"}, false}, // 4
	}
	cs := make([]*domain.Case, len(entries))
	for i, e := range entries {
		cs[i] = h.waitingCase(e.gender)
		if err := h.db.Gorm.Exec("UPDATE cases SET recognized_at = ?::timestamptz WHERE id = ?", e.day+"T10:00:00Z", cs[i].ID).Error; err != nil {
			t.Fatal(err)
		}
		body := map[string]any{"priority": e.priority, "bedridden": e.bedridden}
		if e.districts != nil {
			body["districts"] = e.districts
		}
		r := h.do("PUT", "/api/v1/cases/"+cs[i].ID+"/placement", body,
			"If-Match", `"`+itoaV(h, cs[i].ID)+`"`)
		if r.status != 200 {
			t.Fatalf("placement %d: %d %s", i, r.status, r.body)
		}
	}
	want := []string{cs[4].Number, cs[2].Number, cs[1].Number, cs[3].Number, cs[0].Number}
	r := h.do("GET", "/api/v1/waiting-list?facility_type=elderly_disabled", nil)
	if got := h.numbers(r); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("order: got %v, want %v", got, want)
	}
	first := r.json(t)["items"].([]any)[0].(map[string]any)
	if first["position"].(float64) != 1 || first["priority"] != "out_of_turn" || first["priority_title"] != "Внеочередное право" ||
		first["homes_possible"].(float64) != 1 || first["recognized_at"] != "2026-06-01T10:00:00Z" {
		t.Fatalf("first entry: %v", first)
	}
	// Pages go on with their positions.
	p1 := h.do("GET", "/api/v1/waiting-list?facility_type=elderly_disabled&limit=2", nil).json(t)
	p2 := h.do("GET", "/api/v1/waiting-list?facility_type=elderly_disabled&limit=2&cursor="+p1["next_cursor"].(string), nil).json(t)
	if it := p2["items"].([]any)[0].(map[string]any); it["position"].(float64) != 3 || it["number"] != cs[1].Number {
		t.Fatalf("second page: %v", p2)
	}
	if r := h.do("GET", "/api/v1/waiting-list?facility_type=elderly_disabled&cursor=nonsense", nil); r.status != http.StatusBadRequest {
		t.Fatalf("bad cursor: %d", r.status)
	}
	// The southern home (men only) can take the men who accept it and are not bedridden.
	r = h.do("GET", "/api/v1/waiting-list?facility_id="+south, nil)
	if got := h.numbers(r); strings.Join(got, " ") != cs[1].Number {
		t.Fatalf("the southern home's list: %v", got)
	}
	// The northern home: everyone but the man who wants the south only.
	r = h.do("GET", "/api/v1/waiting-list?facility_id="+north, nil)
	if got := h.numbers(r); strings.Join(got, " ") != strings.Join([]string{cs[4].Number, cs[2].Number, cs[3].Number, cs[0].Number}, " ") {
		t.Fatalf("the northern home's list: %v", got)
	}
	if r := h.do("GET", "/api/v1/waiting-list?facility_type=elderly_disabled&district=Южный", nil); len(h.numbers(r)) != 4 {
		t.Fatalf("who would take the south: %s", r.body)
	}
	// The position a case shows agrees with the list.
	if c, err := h.cases.Get(ctx, cs[1].ID); err != nil || c.WaitingPosition != 3 {
		t.Fatalf("position of the third: %v %v", c.WaitingPosition, err)
	}
	// What the preferences cost: cs[1] (Южный only) is 3rd of 5, alone in its segment; as if it
	// took any home it would be 2nd among the cases with no preferences (of those, only cs[2]
	// is ahead of it). No admissions yet: no estimate, with the reason.
	pl := h.do("GET", "/api/v1/cases/"+cs[1].ID+"/placement", nil).json(t)
	est, _ := pl["estimate"].(map[string]any)
	own, _ := est["with_preferences"].(map[string]any)
	anyHome, _ := est["any_home"].(map[string]any)
	ob, _ := own["estimate_basis"].(map[string]any)
	ab, _ := anyHome["estimate_basis"].(map[string]any)
	if own["position"] != float64(3) || own["total"] != float64(5) || ob["segment_position"] != float64(1) || ob["preferences"] != true ||
		own["estimate"] != nil || ob["reason"] == nil || ab["segment_position"] != float64(2) || ab["preferences"] != false {
		t.Fatalf("placement estimate: %v", pl)
	}
	if id, _ := h.createCase(); h.do("GET", "/api/v1/cases/"+id+"/placement", nil).json(t)["estimate"] != nil {
		t.Fatalf("a case not waiting has no estimate: %v", pl)
	}
	// A cancelled voucher keeps the original date: back at the same place.
	r = h.fire(cs[2].ID, map[string]any{"event": "issue_voucher", "facility_id": north})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), cs[4].Number+"): give skip_reason") {
		t.Fatalf("a voucher past the first: %d %s", r.status, r.body)
	}
	if r := h.fire(cs[2].ID, map[string]any{"event": "issue_voucher", "facility_id": north, "skip_reason": "жалоба рассмотрена"}); r.status != 200 {
		t.Fatalf("voucher: %d %s", r.status, r.body)
	}
	if r := h.fire(cs[2].ID, map[string]any{"event": "cancel_voucher", "reason": "не успели"}); r.status != 200 {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	if got := h.numbers(h.do("GET", "/api/v1/waiting-list?facility_type=elderly_disabled", nil)); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("after a cancelled voucher: got %v, want %v", got, want)
	}
	// An unknown priority is refused and changes nothing; each change is a history line.
	r = h.do("PUT", "/api/v1/cases/"+cs[0].ID+"/placement", map[string]any{"priority": "vip"}, "If-Match", `"`+itoaV(h, cs[0].ID)+`"`)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("unknown priority: %d %s", r.status, r.body)
	}
	hist := h.do("GET", "/api/v1/cases/"+cs[0].ID+"/history", nil).json(t)["items"].([]any)
	if last := hist[len(hist)-1].(map[string]any); last["event"] != "set_placement" {
		t.Fatalf("last history line: %v", last)
	}
	// An admin moves a category: its cases move with it.
	h.token = h.tokens[domain.RoleAdmin]
	if r := h.do("PUT", "/api/v1/priorities/general", map[string]any{"rank": 5, "title": "Общая очередь"}); r.status != 200 || r.json(t)["assumption"] != false {
		t.Fatalf("set priority: %d %s", r.status, r.body)
	}
	h.token = h.tokens[domain.RoleSupervisor]
	if got := h.numbers(h.do("GET", "/api/v1/waiting-list?facility_type=elderly_disabled", nil)); got[0] != cs[1].Number {
		t.Fatalf("after general moved first: %v", got)
	}
}

// itoaV is the case's current version, as an If-Match value without quotes.
func itoaV(h *harness, id string) string {
	h.t.Helper()
	c, err := h.cases.Get(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return strconv.Itoa(c.Version)
}
