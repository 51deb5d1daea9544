package store

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"

	"carepath/domain"
)

// caseCache keeps, for the cases this process changed last, the case as it wrote it and the
// head of its history chain, so that the next command on the case, sent with If-Match for that
// version, is decided without reading the case again: the read was about a sixth of what a
// command cost carepath and PostgreSQL together (docs/BENCHMARKS.md). A specialist working a
// case, or a partner system walking it, sends its commands one after another.
//
// The cache decides nothing: the change statement writes only if the case is still what the
// command was decided on. The UPDATE is under the version (any command of any process bumps
// it), and under the set of the case's open deadlines (the one thing that changes without a new
// version: a delivered guardianship notice closes its deadline). When the statement writes
// nothing, the entry is dropped and the command runs again from a fresh read (errCacheStale).
// Columns changed outside commands are not written back from the cache: the wide columns are
// written only when the command changed them (wideSnapshot), so a re-seal by rekey stays, and
// SetAccessCodeHash (the demo's known code) drops the case from the cache.
type caseCache struct {
	mu sync.Mutex
	m  map[string]cachedCase // by the case id in lower case (cacheKey)
}

// cacheKey is the key of a case id however it is written (a URL may carry it in upper case).
func cacheKey(id string) string { return strings.ToLower(id) }

// caseCacheSize bounds the cache: about 3 KB a case.
const caseCacheSize = 4096

type cachedCase struct {
	c     *domain.Case // never handed out; copies are (cloneCase)
	heads chainHeads
}

func newCaseCache() *caseCache { return &caseCache{m: make(map[string]cachedCase)} }

// get returns a copy of the case at this version, when the cache has it, and its wide columns
// as cached (what the command's change is compared with: the cached case is never changed).
func (cc *caseCache) get(id string, version int) (*domain.Case, chainHeads, wideSnapshot, bool) {
	cc.mu.Lock()
	e, ok := cc.m[cacheKey(id)]
	cc.mu.Unlock()
	if !ok || e.c.Version != version {
		return nil, chainHeads{}, wideSnapshot{}, false
	}
	return cloneCase(e.c), e.heads, wideOf(e.c), true
}

// put keeps the case as just written (a copy, settled as a read would give it), unless the
// cache already has a later version.
func (cc *caseCache) put(c *domain.Case, heads chainHeads) {
	keep, key := settle(cloneCase(c)), cacheKey(c.ID)
	cc.mu.Lock()
	defer cc.mu.Unlock()
	e, ok := cc.m[key]
	if ok && e.c.Version > c.Version {
		return
	}
	putBounded(cc.m, key, cachedCase{keep, heads}, caseCacheSize)
}

// putBounded stores v under key in a cache map of at most size entries, evicting any one entry
// to make room for a new key (map order is random enough).
func putBounded[V any](m map[string]V, key string, v V, size int) {
	if _, ok := m[key]; !ok && len(m) >= size {
		for k := range m {
			delete(m, k)
			break
		}
	}
	m[key] = v
}

func (cc *caseCache) drop(id string) {
	cc.mu.Lock()
	delete(cc.m, cacheKey(id))
	cc.mu.Unlock()
}

// openDeadlineIDs are the ids of the case's open deadlines, ascending: what the change
// statement compares with the database's when the case came from the cache.
func openDeadlineIDs(c *domain.Case) []int64 {
	ids := make([]int64, 0, len(c.Deadlines))
	for _, d := range c.Deadlines {
		if d.State == domain.DeadlineOpen {
			ids = append(ids, d.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// cloneCase copies a case deeply: nothing of the copy is shared with the original
// (TestCloneCaseSharesNothing).
func cloneCase(c *domain.Case) *domain.Case {
	out := *c
	out.Contacts = slices.Clone(c.Contacts)
	out.VoucherValidUntil = clonePtr(c.VoucherValidUntil)
	out.LeaveReturnBy = clonePtr(c.LeaveReturnBy)
	out.IPPSU = clonePtr(c.IPPSU)
	out.Checklist = cloneChecklist(c.Checklist)
	out.Deadlines = slices.Clone(c.Deadlines)
	for i := range out.Deadlines {
		out.Deadlines[i].ClosedAt = clonePtr(out.Deadlines[i].ClosedAt)
	}
	return &out
}

// cloneChecklist copies a checklist with its documents' dates.
func cloneChecklist(cl domain.Checklist) domain.Checklist {
	out := slices.Clone(cl)
	for i := range out {
		out[i].IssuedOn = clonePtr(out[i].IssuedOn)
		out[i].ValidUntil = clonePtr(out[i].ValidUntil)
	}
	return out
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// settle makes a case as written look as Cases.load reads it back: instants to the
// microsecond in the local zone, only the open deadlines, soonest first, and no waiting
// position (load does not count it).
func settle(c *domain.Case) *domain.Case {
	at := func(t time.Time) time.Time { return t.Truncate(time.Microsecond).Local() }
	c.StateEnteredAt, c.CreatedAt, c.UpdatedAt = at(c.StateEnteredAt), at(c.CreatedAt), at(c.UpdatedAt)
	open := c.Deadlines[:0]
	for _, d := range c.Deadlines {
		if d.State == domain.DeadlineOpen {
			d.OpenedAt, d.DueAt = at(d.OpenedAt), at(d.DueAt)
			open = append(open, d)
		}
	}
	slices.SortFunc(open, func(a, b domain.Deadline) int {
		if n := a.DueAt.Compare(b.DueAt); n != 0 {
			return n
		}
		return cmp.Compare(a.ID, b.ID)
	})
	c.Deadlines = open
	c.WaitingPosition = 0
	return c
}
