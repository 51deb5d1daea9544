package store

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

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
	got, err := decodeChecklist(b)
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
		if cl, err := decodeChecklist([]byte(s)); err == nil {
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

// TestStatusBatchGathering: a lookup that arrives on a quiet server goes to the database
// alone at once; on a busy one (the last batch held more than one) a batch waits for more, up
// to statusBatchFill, and leaves as soon as it has them. The wait is an hour here, so a batch
// that waits when it should not hangs (reported after a minute), whatever the machine's speed.
func TestStatusBatchGathering(t *testing.T) {
	q := newBatchQueue(&Lookups{db: &DB{closed: make(chan struct{})}}, time.Hour)
	req := func() *lookupReq { return &lookupReq{done: make(chan error, 1)} }
	b := struct {
		*statusBatcher
		next func([]*lookupReq) ([]*lookupReq, bool)
	}{q, func(batch []*lookupReq) ([]*lookupReq, bool) {
		type result struct {
			batch []*lookupReq
			ok    bool
		}
		done := make(chan result, 1)
		go func() { b, ok := q.next(batch); done <- result{b, ok} }()
		select {
		case r := <-done:
			return r.batch, r.ok
		case <-time.After(time.Minute):
			t.Fatal("the batch waited for more lookups than it should")
			return nil, false
		}
	}}

	b.in <- req()
	batch, ok := b.next(nil)
	if !ok || len(batch) != 1 || b.busy.Load() {
		t.Fatalf("quiet server: batch of %d (ok %v, busy %v), want a batch of 1 at once", len(batch), ok, b.busy.Load())
	}

	// Two already waiting: no waiting for more yet, but now the server counts as busy.
	b.in <- req()
	b.in <- req()
	if batch, _ = b.next(nil); len(batch) != 2 || !b.busy.Load() {
		t.Fatalf("two waiting: batch of %d (busy %v), want 2 and busy", len(batch), b.busy.Load())
	}

	// Busy: the first lookup waits until statusBatchFill have come.
	b.in <- req()
	go func() {
		for range statusBatchFill - 1 {
			b.in <- req()
		}
	}()
	if batch, _ = b.next(nil); len(batch) != statusBatchFill {
		t.Fatalf("busy server: batch of %d, want %d", len(batch), statusBatchFill)
	}

	// More than statusBatchMax waiting: one batch takes statusBatchMax, the rest wait.
	for range statusBatchMax + 3 {
		b.in <- req()
	}
	if batch, _ = b.next(nil); len(batch) != statusBatchMax {
		t.Fatalf("full queue: batch of %d, want %d", len(batch), statusBatchMax)
	}
	// The three left, on a busy server, wait for nine more.
	go func() {
		for range statusBatchFill - 3 {
			b.in <- req()
		}
	}()
	if batch, _ = b.next(nil); len(batch) != statusBatchFill {
		t.Fatalf("the rest: batch of %d, want %d", len(batch), statusBatchFill)
	}
	close(b.l.db.closed)
	if _, ok = b.next(nil); ok {
		t.Fatal("closed database: the batcher should stop")
	}
}
