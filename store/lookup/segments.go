package lookup

import (
	"context"
	"fmt"
	"strings"
	"time"

	"carepath/domain"
	"carepath/store"
)

// The wait estimate's figures (domain/wait.go) ride on the waiting snapshot: each waiting case's
// place on its type's list and in its segment, the lists' lengths, and the admissions of each
// segment over the last 12 months (a GROUP BY on an index, refreshed every AdmissionsTTL, not
// with every snapshot). A lookup attaches them from memory: no query of its own.

// waitingEntry is a waiting case in the snapshot: its place on its type's list, in its
// segment, and among the cases of its type without preferences (as if it had none).
type waitingEntry struct {
	pos, segPos, anyPos int32
	seg                 *segment
}

// segment is one list segment in the snapshot.
type segment struct {
	key, ft     string
	anyKey      string // the segment of any home of the type (as if without preferences)
	preferences bool
}

// admissionsTTL is how old the admissions by segment may be (they move by the day).
const admissionsTTL = 5 * time.Minute

// admissionsWait is how long a lookup waits for the admissions when none are at hand (the
// first build after a start: seconds at a million cases) before counting its own figures.
const admissionsWait = 15 * time.Second

type admissionsSnapshot struct {
	bySeg map[string]int
}

// buildAdmissions counts the admissions by segment over the estimate's period.
func (l *Lookups) buildAdmissions(ctx context.Context) (*admissionsSnapshot, error) {
	bySeg, err := store.SegmentAdmissions(ctx, l.snapshotDB(), store.EstimateSince(time.Now()))
	if err != nil {
		return nil, err
	}
	return &admissionsSnapshot{bySeg: bySeg}, nil
}

// buildWaiting reads the waiting cases in list order and counts their places.
func (l *Lookups) buildWaiting(ctx context.Context) (*waitingSnapshot, error) {
	rows, err := l.snapshotDB().SQL.QueryContext(ctx, store.WaitingSnapshotSQL)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	snap := &waitingSnapshot{entries: map[string]waitingEntry{}, totals: map[string]int{}}
	segs := map[string]*segment{}
	segCount := map[*segment]int32{}
	var n, noPrefs int32 // on the type's list so far; of them, without preferences
	last := ""
	for rows.Next() {
		var id, ft, ds, hs string
		if err := rows.Scan(&id, &ft, &ds, &hs); err != nil {
			return nil, err
		}
		if ft != last {
			n, noPrefs, last = 0, 0, ft
		}
		n++
		key, err := store.SegmentKeyOf(ft, ds, hs)
		if err != nil {
			return nil, err
		}
		sg := segs[key]
		if sg == nil {
			sg = &segment{key: key, ft: ft, anyKey: domain.SegmentKey(ft, nil, nil), preferences: ds != "[]" || hs != "[]"}
			segs[key] = sg
		}
		segCount[sg]++
		snap.entries[id] = waitingEntry{pos: n, segPos: segCount[sg], anyPos: noPrefs + 1, seg: sg}
		if !sg.preferences {
			noPrefs++
		}
		snap.totals[ft] = int(n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return snap, nil
}

// WaitingFigures implements domain.StatusStore: SegmentFigures' own segment.
func (l *Lookups) WaitingFigures(ctx context.Context, caseID string) (domain.SegmentFigures, error) {
	own, _, _, err := l.SegmentFigures(ctx, caseID)
	return own, err
}

// SegmentFigures are store.SegmentFiguresOf's figures (domain.WaitingRegister): the places from
// the snapshot when the case is in it, else counted (store.SegmentPlacesOf: a case put on the
// list since), and the admissions from their value at hand. Counting the admissions themselves,
// per case, reads every admission of the year: seconds at a million cases, twice per case.
func (l *Lookups) SegmentFigures(ctx context.Context, caseID string) (own, anyHome domain.SegmentFigures, found bool, err error) {
	adm, err := l.admissions.get(ctx, admissionsTTL, admissionsWait)
	if err != nil {
		return own, anyHome, false, fmt.Errorf("waiting figures of case %s: %w", caseID, err)
	}
	if adm == nil { // no admissions at hand: everything counted at once
		return store.SegmentFiguresOf(ctx, l.db.SQL, caseID, time.Now())
	}
	snap, err := l.snapshot(ctx)
	if err != nil {
		return own, anyHome, false, fmt.Errorf("waiting figures of case %s: %w", caseID, err)
	}
	var p store.SegmentPlaces
	if e, ok := snap.entry(caseID); ok {
		p.Own = domain.SegmentFigures{Position: int(e.pos), Total: snap.totals[e.seg.ft], SegmentPosition: int(e.segPos),
			Preferences: e.seg.preferences}
		p.AnyHome = domain.SegmentFigures{Position: int(e.pos), Total: snap.totals[e.seg.ft], SegmentPosition: int(e.anyPos)}
		p.OwnKey, p.AnyKey = e.seg.key, e.seg.anyKey
	} else if p, found, err = store.SegmentPlacesOf(ctx, l.db.SQL, caseID); err != nil || !found {
		return own, anyHome, false, err
	}
	p.Own.Admissions, p.AnyHome.Admissions = adm.bySeg[p.OwnKey], adm.bySeg[p.AnyKey]
	return p.Own, p.AnyHome, true, nil
}

// Register returns w with SegmentFigures from the lookups (the console's "what the preferences
// cost" on a case page), the rest of it as it is.
func (l *Lookups) Register(w domain.WaitingRegister) domain.WaitingRegister {
	return figuresFromLookups{w, l}
}

type figuresFromLookups struct {
	domain.WaitingRegister
	l *Lookups
}

func (f figuresFromLookups) SegmentFigures(ctx context.Context, caseID string) (own, anyHome domain.SegmentFigures, found bool, err error) {
	return f.l.SegmentFigures(ctx, caseID)
}

// entry is the case's place in the snapshot; false when there is no snapshot or it is not in it.
func (snap *waitingSnapshot) entry(caseID string) (waitingEntry, bool) {
	if snap == nil {
		return waitingEntry{}, false
	}
	e, ok := snap.entries[strings.ToLower(caseID)]
	return e, ok
}

// snapshotDB is where the waiting snapshot is read: the standby when one is set (Reader,
// DATABASE_READ_URL: a second of lag is harmless to positions and estimates), else the primary.
func (l *Lookups) snapshotDB() *store.DB {
	if l.Reader != nil {
		return l.Reader
	}
	return l.db
}
