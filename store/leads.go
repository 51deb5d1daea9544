package store

import (
	"gorm.io/gorm"

	"context"
	"encoding/json"
	"fmt"
	"time"

	"carepath/domain"
)

// Leads keeps the outreach leads (implements domain.LeadStore); address and phone are sealed.
type Leads struct {
	db     *DB
	sealer *Sealer
}

// NewLeads returns the lead store.
func NewLeads(db *DB, sealer *Sealer) *Leads { return &Leads{db: db, sealer: sealer} }

type leadPersonal struct {
	Address string `json:"address"`
	Phone   string `json:"phone,omitempty"`
}

type leadRow struct {
	ID            string
	FullName      string
	BirthDate     time.Time
	Personal      []byte
	Answers       string
	NeedScore     int
	ConsentOn     time.Time
	Source        string
	State         string
	Note          string
	SubmittedBy   string
	SubmitterKind string
	CaseID        *string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

const leadSelect = `SELECT id::text, full_name, birth_date, personal, answers::text, need_score, consent_on, source, state, note,
	submitted_by, submitter_kind, case_id::text, created_at, updated_at FROM leads`

func (s *Leads) lead(r leadRow) (domain.Lead, error) {
	l := domain.Lead{ID: r.ID, FullName: r.FullName, BirthDate: *timeDate(&r.BirthDate), NeedScore: r.NeedScore,
		ConsentOn: *timeDate(&r.ConsentOn), Source: r.Source, State: domain.LeadState(r.State), Note: r.Note,
		SubmittedBy: r.SubmittedBy, SubmitterKind: r.SubmitterKind, CaseID: deref(r.CaseID), CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC()}
	if err := json.Unmarshal([]byte(r.Answers), &l.Answers); err != nil {
		return l, fmt.Errorf("lead %s answers: %w", r.ID, err)
	}
	plain, err := s.sealer.Open(r.Personal)
	if err != nil {
		return l, fmt.Errorf("lead %s personal data: %w", r.ID, err)
	}
	var p leadPersonal
	if err := json.Unmarshal(plain, &p); err != nil {
		return l, fmt.Errorf("lead %s personal data: %w", r.ID, err)
	}
	l.Address, l.Phone = p.Address, p.Phone
	return l, nil
}

// Add implements domain.LeadStore.
func (s *Leads) Add(ctx context.Context, l *domain.Lead, triage domain.Deadline) error {
	personal, _ := json.Marshal(leadPersonal{Address: l.Address, Phone: l.Phone})
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Exec(`INSERT INTO leads (id, full_name, birth_date, personal, answers, need_score, consent_on,
				source, state, submitted_by, submitter_kind, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?, ?, ?)`, l.ID, l.FullName, l.BirthDate.Time(), s.sealer.Seal(personal),
			mustJSON(l.Answers), l.NeedScore, l.ConsentOn.Time(), l.Source, string(l.State), l.SubmittedBy, l.SubmitterKind,
			l.CreatedAt, l.UpdatedAt).Error
		if err != nil {
			return translate(err, "lead")
		}
		return openRefDeadline(tx, "", triage)
	})
}

// Get implements domain.LeadStore.
func (s *Leads) Get(ctx context.Context, id string) (*domain.Lead, error) {
	var rows []leadRow
	if err := s.db.Gorm.WithContext(ctx).Raw(leadSelect+" WHERE id = ?", id).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("lead %s: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, domain.Errorf(domain.ENOTFOUND, "lead %s not found", id)
	}
	l, err := s.lead(rows[0])
	return &l, err
}

// List implements domain.LeadStore.
func (s *Leads) List(ctx context.Context, f domain.LeadFilter) ([]domain.Lead, error) {
	q := leadSelect + " WHERE true"
	var args []any
	if f.State != "" {
		q += " AND state = ?"
		args = append(args, string(f.State))
	}
	if f.SubmittedBy != "" {
		q += " AND submitted_by = ?"
		args = append(args, f.SubmittedBy)
	}
	q += " ORDER BY need_score DESC, seq LIMIT ?"
	args = append(args, f.Limit)
	var rows []leadRow
	if err := s.db.Gorm.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list leads: %w", err)
	}
	out := make([]domain.Lead, 0, len(rows))
	for _, r := range rows {
		l, err := s.lead(r)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// Move implements domain.LeadStore: one conditional UPDATE, so two specialists cannot both move
// a lead out of the same state.
func (s *Leads) Move(ctx context.Context, id string, from []domain.LeadState, to domain.LeadState, note, caseID string, now time.Time) (*domain.Lead, error) {
	states := make([]string, len(from))
	for i, st := range from {
		states[i] = string(st)
	}
	var rows []leadRow
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Raw(`UPDATE leads SET state = ?, note = ?, case_id = NULLIF(?, '')::uuid, updated_at = ?
			WHERE id = ? AND state IN ? RETURNING id::text, full_name, birth_date, personal, answers::text, need_score, consent_on,
				source, state, note, submitted_by, submitter_kind, case_id::text, created_at, updated_at`,
			string(to), note, caseID, now, id, states).Scan(&rows).Error
		if err != nil {
			return translate(err, "lead")
		}
		if len(rows) == 0 || (to != domain.LeadContacted && to != domain.LeadDeclined && to != domain.LeadConverted) {
			return nil
		}
		// triaged: the lead's triage deadline is met (missed when late)
		return closeRefDeadline(tx, "", domain.DeadlineLeadTriage, id, now)
	})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		l, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		return nil, domain.Errorf(domain.ECONFLICT, "lead %s is %s", id, l.State)
	}
	l, err := s.lead(rows[0])
	return &l, err
}
