package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"carepath/domain"
)

// Cases implements domain.CaseStore on Postgres. CaseCache may stand in front of it.
type Cases struct {
	db     *DB
	sealer *Sealer
	limits ListLimits
	// Phones, when set, indexes the phones of each new case for search (store/casephones.go).
	Phones *PhoneIndex
}

// NewCases returns the case store.
func NewCases(db *DB, sealer *Sealer) *Cases {
	return &Cases{db: db, sealer: sealer, limits: DefaultListLimits()}
}

// WithListLimits returns a store on the same database whose list planner uses these thresholds.
func (s *Cases) WithListLimits(l ListLimits) *Cases {
	out := *s
	out.limits = l
	return &out
}

// Get implements domain.CaseStore.
func (s *Cases) Get(ctx context.Context, id string) (*domain.Case, error) {
	c, _, err := s.load(ctx, pgxPool{s.db}, id, false)
	if err != nil {
		return nil, err
	}
	if c.State == domain.WaitingList || c.State == domain.TransferPending {
		if c.WaitingPosition, err = WaitingPosition(ctx, s.db.SQL, c.ID); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// caseSelect reads a case row with its open deadlines as JSON in one round trip; with
// chains, also the heads of its history and access chains (for a command).
const caseSelect = `SELECT c.id::text, c.seq, c.number, c.state::text, c.version, c.channel::text, c.facility_type::text,
	c.applicant_name, c.legal_capacity::text, c.applicant::text, c.personal, c.contacts::text, c.health_org_id::text,
	c.guardianship_id::text, c.facility_id::text, c.voucher_facility_id::text, c.voucher_valid_until, c.leave_return_by,
	c.ippsu_number, c.ippsu_date, c.assignee_id::text, c.filed_by_agency_id::text, c.checklist::text,
	c.access_code_hash, c.next_due_at, c.state_entered_at, c.created_at, c.updated_at, c.law::text,
	(SELECT coalesce(json_agg(json_build_object('id', d.id, 'kind', d.kind, 'ref', d.ref, 'opened_at', d.opened_at,
		'due_on', d.due_on, 'due_at', d.due_at) ORDER BY d.due_at, d.id), '[]')
	 FROM deadlines d WHERE d.case_id = c.id AND d.state = 'open')::text`

var (
	caseByID       = caseSelect + "\nFROM cases c WHERE c.id = $1"
	caseWithChains = caseSelect + `,
	(SELECT hash FROM case_history h WHERE h.case_id = c.id AND h.version = c.version),
	(SELECT hash FROM access_log l WHERE l.case_id = c.id AND l.writer_id = 0 ORDER BY l.seq DESC LIMIT 1)
FROM cases c WHERE c.id = $1`
)

// load reads a case (ENOTFOUND when there is none) and, with chains, the heads of its history
// and of its changes' access lines.
func (s *Cases) load(ctx context.Context, db querier, id string, chains bool) (*domain.Case, chainHeads, error) {
	var (
		r         caseRow
		deadlines string
		heads     chainHeads
		hHash     sql.NullString
		aHash     sql.NullString
	)
	dest := []any{&r.ID, &r.Seq, &r.Number, &r.State, &r.Version, &r.Channel, &r.FacilityType, &r.ApplicantName, &r.LegalCapacity,
		&r.Applicant, &r.Personal, &r.Contacts, &r.HealthOrgID, &r.GuardianshipID, &r.FacilityID, &r.VoucherFacilityID,
		&r.VoucherValidUntil, &r.LeaveReturnBy, &r.IPPSUNumber, &r.IPPSUDate, &r.AssigneeID, &r.FiledByAgencyID, &r.Checklist,
		&r.AccessCodeHash, &r.NextDueAt, &r.StateEnteredAt, &r.CreatedAt, &r.UpdatedAt, &r.Law, &deadlines}
	query := caseByID
	if chains {
		query = caseWithChains
		dest = append(dest, &hHash, &aHash)
	}
	err := db.queryRow(ctx, dest, query, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, heads, domain.Errorf(domain.ENOTFOUND, "case %s not found", id)
	}
	if err != nil {
		return nil, heads, fmt.Errorf("load case %s: %w", id, err)
	}
	heads = chainHeads{historyHash: hHash.String, changeHash: aHash.String, oldSeal: !s.sealer.Current(r.Personal)}
	c, err := s.fromRow(r)
	if err != nil {
		return nil, heads, err
	}
	// the open deadlines as domain.Deadline reads them (no state, closed_at: open ones)
	if err := json.Unmarshal([]byte(deadlines), &c.Deadlines); err != nil {
		return nil, heads, fmt.Errorf("load deadlines of case %s: %w", id, err)
	}
	for i := range c.Deadlines {
		d := &c.Deadlines[i]
		d.State, d.OpenedAt, d.DueAt = domain.DeadlineOpen, d.OpenedAt.Local(), d.DueAt.Local()
	}
	return c, heads, nil
}

// findOne reads the single row q selects into dst: ENOTFOUND naming what and id when there is
// none, a wrapped error when the query fails.
func findOne(q *gorm.DB, dst any, what, id string) error {
	res := q.Limit(1).Find(dst)
	if res.Error != nil {
		return fmt.Errorf("load %s %s: %w", what, id, res.Error)
	}
	if res.RowsAffected == 0 {
		return domain.Errorf(domain.ENOTFOUND, "%s %s not found", what, id)
	}
	return nil
}

// History implements domain.CaseStore.
func (s *Cases) History(ctx context.Context, id string) ([]domain.HistoryEntry, error) {
	db := s.db.Gorm.WithContext(ctx)
	var rows []historyRow
	if err := db.Where("case_id = ?", id).Order("version").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("history of case %s: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, domain.Errorf(domain.ENOTFOUND, "case %s not found", id)
	}
	out := make([]domain.HistoryEntry, len(rows))
	for i, r := range rows {
		out[i] = domain.HistoryEntry{CaseID: r.CaseID, Version: r.Version, Event: r.Event, From: domain.State(r.FromState), To: domain.State(r.ToState),
			ActorID: r.ActorID, ActorName: r.ActorName, ActorRole: r.ActorRole, Comment: r.Comment, At: r.At}
		if err := json.Unmarshal([]byte(r.Payload), &out[i].Payload); err != nil {
			return nil, fmt.Errorf("history of case %s: %w", id, err)
		}
	}
	return out, nil
}

// AccessCodes sets a case's access code hash beside commands: Cases, or the CaseCache in front
// of it.
type AccessCodes interface {
	SetAccessCodeHash(ctx context.Context, id, hash string) error
}

// SetAccessCodeHash replaces a case's access code hash (the demo's known code). It bypasses
// commands: a CaseCache in front of the store must be told (CaseCache.SetAccessCodeHash).
func (s *Cases) SetAccessCodeHash(ctx context.Context, id, hash string) error {
	res := s.db.Gorm.WithContext(ctx).Session(&gorm.Session{}).Exec("UPDATE cases SET access_code_hash = ? WHERE id = ?", hash, id)
	if res.Error != nil {
		return fmt.Errorf("set access code of case %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return domain.Errorf(domain.ENOTFOUND, "case %s not found", id)
	}
	return nil
}
