package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"encoding/json"

	"gorm.io/gorm"

	"carepath/domain"
)

// Placements, priority categories and the waiting list (migration 00021).

type placementRow struct {
	CaseID      string
	Priority    string
	Bedridden   bool
	Districts   string
	FacilityIDs string
	Refusals    int
	Review      bool
}

func (placementRow) TableName() string { return "placements" }

func (r placementRow) domain() (*domain.Placement, error) {
	p := &domain.Placement{Priority: r.Priority, Bedridden: r.Bedridden, Refusals: r.Refusals, Review: r.Review}
	var err error
	if p.Districts, err = jsonList(r.Districts); err != nil {
		return nil, err
	}
	if p.FacilityIDs, err = jsonList(r.FacilityIDs); err != nil {
		return nil, err
	}
	return p, nil
}

// jsonList reads an array the query gave as JSON (to_json of a text[] or uuid[]).
func jsonList(s string) ([]string, error) {
	out := []string{}
	if s == "" || s == "null" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("read list %q: %w", s, err)
	}
	return out, nil
}

// arrayOf is the SQL that turns a JSON list parameter into an array of type typ.
func arrayOf(param, typ string) string {
	return "ARRAY(SELECT jsonb_array_elements_text(" + param + "::jsonb))::" + typ + "[]"
}

func readPlacement(db *gorm.DB, caseID string) (*domain.Placement, error) {
	var rows []placementRow
	if err := db.Raw(`SELECT case_id::text, priority, bedridden, to_json(districts)::text AS districts,
		to_json(facility_ids)::text AS facility_ids, refusals, review FROM placements WHERE case_id = ?`, caseID).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("placement of case %s: %w", caseID, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return rows[0].domain()
}

// Placement implements domain.WaitingRegister.
func (s *Cases) Placement(ctx context.Context, caseID string) (*domain.Placement, error) {
	return readPlacement(s.db.Gorm.WithContext(ctx), caseID)
}

// Placement implements domain.CaseTx.
func (t *lazyTx) Placement(ctx context.Context, caseID string) (*domain.Placement, error) {
	db := t.tx
	if db == nil {
		db = t.db.Gorm.WithContext(ctx)
	}
	return readPlacement(db, caseID)
}

// SavePlacement implements domain.CaseTx: the placement, and the case's rank in the order.
func (t *lazyTx) SavePlacement(ctx context.Context, caseID string, p domain.Placement) error {
	tx, err := t.begin()
	if err != nil {
		return err
	}
	var rank []int
	if err := tx.Raw("SELECT rank FROM priority_categories WHERE code = ?", p.Priority).Scan(&rank).Error; err != nil {
		return fmt.Errorf("priority %s: %w", p.Priority, err)
	}
	if len(rank) == 0 {
		return domain.ErrorOn(domain.EUNPROCESSABLE, "placement.priority", "priority %s does not exist", p.Priority)
	}
	err = tx.Exec(`INSERT INTO placements (case_id, priority, bedridden, districts, facility_ids, refusals, review, updated_at)
		VALUES (?, ?, ?, `+arrayOf("?", "text")+`, `+arrayOf("?", "uuid")+`, ?, ?, now())
		ON CONFLICT (case_id) DO UPDATE SET priority = excluded.priority, bedridden = excluded.bedridden,
			districts = excluded.districts, facility_ids = excluded.facility_ids, refusals = excluded.refusals,
			review = excluded.review, updated_at = excluded.updated_at`,
		caseID, p.Priority, p.Bedridden, mustJSON(p.Districts), mustJSON(p.FacilityIDs), p.Refusals, p.Review).Error
	if err != nil {
		return translate(err, "placement")
	}
	if err := tx.Exec("UPDATE cases SET priority_rank = ? WHERE id = ?", rank[0], caseID).Error; err != nil {
		return fmt.Errorf("rank of case %s: %w", caseID, err)
	}
	return nil
}

// Priorities implements domain.WaitingRegister.
func (s *Cases) Priorities(ctx context.Context) ([]domain.PriorityCategory, error) {
	var out []domain.PriorityCategory
	if err := s.db.Gorm.WithContext(ctx).Raw("SELECT code, rank, title, assumption FROM priority_categories ORDER BY rank, code").
		Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("priorities: %w", err)
	}
	return out, nil
}

// SetPriority implements domain.WaitingRegister: the category, and the rank of its cases.
func (s *Cases) SetPriority(ctx context.Context, p domain.PriorityCategory) (*domain.PriorityCategory, error) {
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Exec(`INSERT INTO priority_categories (code, rank, title, assumption) VALUES (?, ?, ?, false)
			ON CONFLICT (code) DO UPDATE SET rank = excluded.rank, title = excluded.title, assumption = false`, p.Code, p.Rank, p.Title).Error
		if err != nil {
			return translate(err, "priority")
		}
		return tx.Exec(`UPDATE cases c SET priority_rank = ? FROM placements p
			WHERE p.case_id = c.id AND p.priority = ? AND c.priority_rank <> ?`, p.Rank, p.Code, p.Rank).Error
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// waitingCursor is the last entry of a page: its place in the order and its position.
type waitingCursor struct {
	rank     int
	at       time.Time
	seq      int64
	position int
}

func (c waitingCursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d|%d|%d|%d", c.rank, c.at.UnixMicro(), c.seq, c.position)))
}

func decodeWaitingCursor(s string) (waitingCursor, error) {
	bad := domain.Invalid("cursor", "is not a cursor this list gave")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return waitingCursor{}, bad
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 4 {
		return waitingCursor{}, bad
	}
	var n [4]int64
	for i, p := range parts {
		if n[i], err = strconv.ParseInt(p, 10, 64); err != nil || n[i] < 0 {
			return waitingCursor{}, bad
		}
	}
	return waitingCursor{rank: int(n[0]), at: time.UnixMicro(n[1]).UTC(), seq: n[2], position: int(n[3])}, nil
}

// eligibleFor is the condition that a waiting case (c, with its placement p) would take a bed
// of the home @home: its preferences allow it and a section fits (@section: that one only).
const eligibleFor = `(coalesce(cardinality(p.facility_ids), 0) = 0 OR @home = ANY (p.facility_ids))
	AND (coalesce(cardinality(p.districts), 0) = 0 OR (SELECT district FROM facilities WHERE id = @home) = ANY (p.districts))
	AND EXISTS (SELECT 1 FROM facility_sections s WHERE s.facility_id = @home AND (@section = '' OR s.code = @section)
		AND s.sex IN (CASE c.applicant->>'gender' WHEN 'female' THEN 'female' ELSE 'male' END, 'any')
		AND s.bedridden = coalesce(p.bedridden, false))`

type waitingRow struct {
	ID            string
	Seq           int64
	Number        string
	ApplicantName string
	FacilityType  string
	PriorityRank  int
	RecognizedAt  time.Time
	Gender        string
	Priority      *string
	PriorityTitle *string
	Bedridden     *bool
	Districts     sql.NullString
	FacilityIDs   sql.NullString
	Review        *bool
	// Fits: the case passes the list's filter (waitingWalk).
	Fits bool
}

// waitingFilters are the conditions a filtered list keeps its cases by: eligibleFor for one
// home's list (@home), and the preferences' district for a district's (@district).
func waitingFilters(f domain.WaitingFilter) []string {
	var out []string
	if f.FacilityID != "" {
		out = append(out, eligibleFor)
	}
	if f.District != "" {
		out = append(out, "(coalesce(cardinality(p.districts), 0) = 0 OR @district = ANY (p.districts))")
	}
	return out
}

// Waiting implements domain.WaitingRegister: the cases in the list's order from the cursor, each
// with the number of homes it could take.
func (s *Cases) Waiting(ctx context.Context, f domain.WaitingFilter) (domain.WaitingPage, error) {
	var cur waitingCursor
	if f.Cursor != "" {
		var err error
		if cur, err = decodeWaitingCursor(f.Cursor); err != nil {
			return domain.WaitingPage{}, err
		}
	}
	ft := string(f.FacilityType)
	if f.FacilityID != "" {
		// the home's list is its type's
		err := s.db.SQL.QueryRowContext(ctx, "SELECT type FROM facilities WHERE id = $1", f.FacilityID).Scan(&ft)
		if errors.Is(err, sql.ErrNoRows) {
			return domain.WaitingPage{}, domain.Errorf(domain.ENOTFOUND, "facility %s not found", f.FacilityID)
		}
		if err != nil {
			return domain.WaitingPage{}, fmt.Errorf("load facility %s: %w", f.FacilityID, err)
		}
	}
	var span waitingSpan
	if f.Cursor != "" {
		span.after = &cur
	}
	rows, err := waitingWalk(ctx, s.db.SQL, waitingFilters(f), changeArgs{"ft": ft, "home": f.FacilityID, "section": "", "district": f.District},
		span, f.Limit+1)
	if err != nil {
		return domain.WaitingPage{}, err
	}
	homes, err := homesOfType(ctx, s.db, ft)
	if err != nil {
		return domain.WaitingPage{}, err
	}
	page := domain.WaitingPage{Items: []domain.WaitingEntry{}}
	for i, r := range rows {
		if i == f.Limit {
			last := rows[i-1]
			page.NextCursor = waitingCursor{last.PriorityRank, last.RecognizedAt, last.Seq, cur.position + i}.encode()
			break
		}
		sex := domain.SexMale
		if r.Gender == "female" {
			sex = domain.SexFemale
		}
		e := domain.WaitingEntry{Position: cur.position + i + 1, CaseID: r.ID, Number: r.Number, ApplicantName: r.ApplicantName,
			FacilityType: domain.FacilityType(r.FacilityType), Priority: domain.DefaultPriority, RecognizedAt: r.RecognizedAt.UTC(),
			Sex: sex}
		var err error
		if e.Districts, err = jsonList(r.Districts.String); err != nil {
			return domain.WaitingPage{}, err
		}
		if e.FacilityIDs, err = jsonList(r.FacilityIDs.String); err != nil {
			return domain.WaitingPage{}, err
		}
		if r.Priority != nil {
			e.Priority, e.PriorityTitle, e.Bedridden, e.Review = *r.Priority, deref(r.PriorityTitle), *r.Bedridden, *r.Review
		}
		e.HomesPossible = homes.possible(e)
		page.Items = append(page.Items, e)
	}
	return page, nil
}

// typeHomes are the active homes of a type with their sections' traits: a page's homes_possible
// is counted from them in Go (one query a page; a count per entry read every home of the type
// for each of the page's entries, tens of milliseconds with hundreds of homes).
type typeHomes []struct {
	id, district string
	traits       []domain.BedNeed // a section of sex "any" counts for both
}

func homesOfType(ctx context.Context, db *DB, ft string) (typeHomes, error) {
	rows, err := db.SQL.QueryContext(ctx, `SELECT f.id::text, f.district, s.sex, s.bedridden FROM facilities f
		JOIN facility_sections s ON s.facility_id = f.id WHERE f.type = $1 AND f.active ORDER BY f.id`, ft)
	if err != nil {
		return nil, fmt.Errorf("homes of type %s: %w", ft, err)
	}
	defer rows.Close()
	var out typeHomes
	for rows.Next() {
		var id, district, sex string
		var bedridden bool
		if err := rows.Scan(&id, &district, &sex, &bedridden); err != nil {
			return nil, fmt.Errorf("homes of type %s: %w", ft, err)
		}
		if len(out) == 0 || out[len(out)-1].id != id {
			out = append(out, struct {
				id, district string
				traits       []domain.BedNeed
			}{id: id, district: district})
		}
		h := &out[len(out)-1]
		for _, sx := range []domain.Sex{domain.SexMale, domain.SexFemale} {
			if sex == string(sx) || sex == string(domain.SexAny) {
				h.traits = append(h.traits, domain.BedNeed{Sex: sx, Bedridden: bedridden})
			}
		}
	}
	return out, rows.Err()
}

// possible counts the homes that meet the entry's preferences and have a section for it
// (eligibleFor, in Go).
func (hs typeHomes) possible(e domain.WaitingEntry) int {
	n := 0
	need := domain.BedNeed{Sex: e.Sex, Bedridden: e.Bedridden}
	for _, h := range hs {
		if len(e.FacilityIDs) > 0 && !slices.Contains(e.FacilityIDs, h.id) {
			continue
		}
		if len(e.Districts) > 0 && !slices.Contains(e.Districts, h.district) {
			continue
		}
		if slices.Contains(h.traits, need) {
			n++
		}
	}
	return n
}
