package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"carepath/domain"
)

// ContactRequests keeps the relatives' requests to reach a resident (implements
// domain.ContactRequestStore): the request, its deadline and its notices in one transaction.
type ContactRequests struct {
	db     *DB
	sealer *Sealer
}

// NewContactRequests returns the store.
func NewContactRequests(db *DB, sealer *Sealer) *ContactRequests {
	return &ContactRequests{db: db, sealer: sealer}
}

type contactRequestRow struct {
	ID         string
	CaseID     string
	CaseNumber string
	FacilityID string
	Name       string
	Relation   string
	Phone      []byte
	Message    string
	State      string
	DueOn      time.Time
	Outcome    *string
	Note       string
	CreatedBy  string
	CreatedAt  time.Time
	DoneBy     *string
	DoneAt     *time.Time
}

// insertNotices writes notices to the outbox in the caller's transaction and rings the relay
// when it commits; like a command's and the reminder scan's, the webhook notices of happenings
// an agency did not choose are dropped (subscribed). It returns how many it wrote.
func insertNotices(tx *gorm.DB, ns []domain.Notice) (int, error) {
	if agencies := webhookAgencies(ns); len(agencies) > 0 {
		var subs []subscription
		if err := tx.Raw(subscriptionsSQL, uuidArray(agencies)).Scan(&subs).Error; err != nil {
			return 0, fmt.Errorf("webhook choices: %w", err)
		}
		ns = subscribed(ns, subs)
	}
	for _, n := range ns {
		err := tx.Exec(`INSERT INTO notices (id, case_id, subject_kind, subject_id, happening, audience, channel, recipient, template, data,
				idempotency_key, status, not_before, next_attempt_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, 'pending', ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			n.ID, nullable(n.CaseID), nullable(n.SubjectKind), nullable(n.SubjectID), string(n.Happening), n.Audience, n.Channel, n.Recipient, n.Template, mustJSON(n.Data), n.IdempotencyKey,
			n.NotBefore, n.NotBefore, n.CreatedAt, n.CreatedAt).Error
		if err != nil {
			return 0, translate(err, "notice")
		}
	}
	if len(ns) == 0 {
		return 0, nil
	}
	return len(ns), tx.Exec("SELECT pg_notify(?, '')", NoticeChannel).Error
}

// Open implements domain.ContactRequestStore.
func (s *ContactRequests) Open(ctx context.Context, r *domain.ContactRequest, d domain.Deadline, notices []domain.Notice) error {
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if r.CreatedBy == domain.StatusPage {
			// one open request from the status page per case: concurrent ones wait on the case's lock
			if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('contact_request:' || ?))", r.CaseID).Error; err != nil {
				return err
			}
			var open int64
			if err := tx.Raw("SELECT count(*) FROM contact_requests WHERE case_id = ? AND state = 'open' AND created_by = ?",
				r.CaseID, domain.StatusPage).Scan(&open).Error; err != nil {
				return err
			}
			if open > 0 {
				return domain.ErrContactRequestOpen(r.CaseNumber)
			}
		}
		err := tx.Exec(`INSERT INTO contact_requests (id, case_id, facility_id, name, relation, phone, message, state, due_on, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)`, r.ID, r.CaseID, r.FacilityID, r.Name, r.Relation,
			s.sealer.Seal([]byte(r.Phone)), r.Message, r.DueOn.Time(), r.CreatedBy, r.CreatedAt).Error
		if err != nil {
			return translate(err, "contact request")
		}
		if err := openRefDeadline(tx, r.CaseID, d); err != nil {
			return err
		}
		_, err = insertNotices(tx, notices)
		return err
	})
	if err == nil && len(notices) > 0 {
		s.db.bell.Ring()
	}
	return err
}

const contactRequestSelect = `SELECT r.id::text, r.case_id::text, c.number AS case_number, r.facility_id::text, r.name,
	r.relation, r.phone, r.message, r.state, r.due_on, r.outcome, r.note, r.created_by, r.created_at, r.done_by, r.done_at
	FROM contact_requests r JOIN cases c ON c.id = r.case_id`

// Get implements domain.ContactRequestStore.
func (s *ContactRequests) Get(ctx context.Context, id string) (*domain.ContactRequest, error) {
	var rows []contactRequestRow
	if err := s.db.Gorm.WithContext(ctx).Raw(contactRequestSelect+" WHERE r.id = ?", id).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("contact request %s: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, domain.Errorf(domain.ENOTFOUND, "contact request %s not found", id)
	}
	return s.request(rows[0])
}

// List implements domain.ContactRequestStore.
func (s *ContactRequests) List(ctx context.Context, state string, limit int) ([]domain.ContactRequest, error) {
	q, args := contactRequestSelect, []any{}
	if state != "" {
		q, args = q+" WHERE r.state = ?", append(args, state)
	}
	q += " ORDER BY (r.state = 'open') DESC, CASE WHEN r.state = 'open' THEN r.due_on END, r.created_at DESC LIMIT ?"
	var rows []contactRequestRow
	if err := s.db.Gorm.WithContext(ctx).Raw(q, append(args, limit)...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list contact requests: %w", err)
	}
	out := make([]domain.ContactRequest, 0, len(rows))
	for _, row := range rows {
		r, err := s.request(row)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, nil
}

func (s *ContactRequests) request(row contactRequestRow) (*domain.ContactRequest, error) {
	phone, err := s.sealer.Open(row.Phone)
	if err != nil {
		return nil, fmt.Errorf("contact request %s phone: %w", row.ID, err)
	}
	r := &domain.ContactRequest{ID: row.ID, CaseID: row.CaseID, CaseNumber: row.CaseNumber, FacilityID: row.FacilityID, Name: row.Name,
		Relation: row.Relation, Phone: string(phone), Message: row.Message, State: row.State, DueOn: *timeDate(&row.DueOn),
		Note: row.Note, CreatedBy: row.CreatedBy, CreatedAt: row.CreatedAt.UTC(), DoneBy: deref(row.DoneBy), DoneAt: row.DoneAt}
	if row.Outcome != nil {
		r.Outcome = domain.ContactOutcome(*row.Outcome)
		r.OutcomeLabel = domain.ContactOutcomeLabel(r.Outcome)
	}
	return r, nil
}

// Close implements domain.ContactRequestStore.
func (s *ContactRequests) Close(ctx context.Context, r *domain.ContactRequest, notices []domain.Notice) error {
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE contact_requests SET state = 'done', outcome = ?, note = ?, done_by = ?, done_at = ?
			WHERE id = ? AND state = 'open'`, string(r.Outcome), r.Note, r.DoneBy, *r.DoneAt, r.ID)
		if res.Error != nil {
			return fmt.Errorf("close contact request %s: %w", r.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			return domain.Errorf(domain.ECONFLICT, "contact request %s is already done", r.ID)
		}
		if err := closeRefDeadline(tx, r.CaseID, domain.DeadlineContactRequest, r.ID, *r.DoneAt); err != nil {
			return err
		}
		_, err := insertNotices(tx, notices)
		return err
	})
	if err == nil && len(notices) > 0 {
		s.db.bell.Ring()
	}
	return err
}
