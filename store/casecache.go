package store

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"carepath/domain"
)

// CaseCache stands in front of Cases (a decorator over domain.CaseStore): it keeps, for the
// cases this process changed last, the case as it wrote it and the head of its history chain,
// so that the next command on the case, sent with If-Match for that version, is decided without
// reading the case again: the read was about a sixth of what a command cost carepath and
// PostgreSQL together (docs/BENCHMARKS.md). A specialist working a case, or a partner system
// walking it, sends its commands one after another. Leave it out (CASE_CACHE_SIZE=0) and
// every command reads its case.
//
// The cache decides nothing: the change statement writes only if the case is still what the
// command was decided on, whoever decided it (Cases.updateFrom): under its version (any command
// of any process bumps it) and its open deadlines (the one thing that changes without a new
// version: a delivered guardianship notice closes its deadline). When the statement writes
// nothing, the command runs again from a fresh read. Columns changed outside commands are not
// written back from the cache: the wide columns are written only when the command changed them
// (wideSnapshot), so a re-seal by rekey stays, and SetAccessCodeHash (the demo's known code)
// drops the case from the cache.
type CaseCache struct {
	*Cases
	mu   sync.Mutex
	m    map[string]decided // by the case id in lower case (cacheKey); cases never handed out
	size int
}

var _ domain.CaseStore = (*CaseCache)(nil)

// NewCaseCache puts a cache of up to size cases (about 3 KB each) in front of cases.
func NewCaseCache(cases *Cases, size int) *CaseCache {
	return &CaseCache{Cases: cases, m: make(map[string]decided), size: max(size, 1)}
}

// Update implements domain.CaseStore: a command with a version is decided on the cached case
// when the cache has it at that version.
func (cc *CaseCache) Update(ctx context.Context, id string, version int, fn func(ctx context.Context, tx domain.CaseTx, c *domain.Case) (*domain.Change, error)) (*domain.Case, error) {
	var from *decided
	if version != 0 {
		from = cc.get(id, version)
	}
	c, heads, err := cc.updateFrom(ctx, id, version, from, fn)
	if err != nil {
		cc.drop(id)
		return nil, err
	}
	cc.put(c, heads)
	return c, nil
}

// SetAccessCodeHash sets the hash beside commands: the case leaves the cache, or a later command
// changing a wide column would write the old hash back.
func (cc *CaseCache) SetAccessCodeHash(ctx context.Context, id, hash string) error {
	cc.drop(id)
	return cc.Cases.SetAccessCodeHash(ctx, id, hash)
}

// cacheKey is the key of a case id however it is written (a URL may carry it in upper case).
func cacheKey(id string) string { return strings.ToLower(id) }

// get returns a copy of the case at this version, when the cache has it, with its wide columns
// as cached (what the command's change is compared with: the cached case is never changed).
func (cc *CaseCache) get(id string, version int) *decided {
	cc.mu.Lock()
	e, ok := cc.m[cacheKey(id)]
	cc.mu.Unlock()
	if !ok || e.c.Version != version {
		return nil
	}
	return &decided{c: e.c.Clone(), heads: e.heads, wide: wideOf(e.c)}
}

// put keeps the case as just written (a copy, settled as a read would give it), unless the
// cache already has a later version.
func (cc *CaseCache) put(c *domain.Case, heads chainHeads) {
	keep, key := settle(c.Clone()), cacheKey(c.ID)
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if e, ok := cc.m[key]; ok && e.c.Version > c.Version {
		return
	}
	putBounded(cc.m, key, decided{c: keep, heads: heads}, cc.size)
}

func (cc *CaseCache) drop(id string) {
	cc.mu.Lock()
	delete(cc.m, cacheKey(id))
	cc.mu.Unlock()
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
