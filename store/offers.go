package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"carepath/domain"
)

// Offers of freed beds (migration 00022), written in the transaction of the case whose command
// freed the bed or answered the offer.

// nextForSection is the first waiting case that could take a bed of section @section of home
// @home: of the home's type, eligible (eligibleFor), not @exclude nor a resident of the home
// waiting for a transfer, without an open offer, not flagged for review, and not one that
// declined this section or let its offer expire. The candidates are the first @window cases of
// the list, read in order by the index cases_waiting_order (NULL: the whole list): left to
// itself the planner, which cannot tell how many cases the filters keep, read the whole list
// and sorted it (seconds at 100,000 waiting). nextCase asks a window, then, when no case of it
// fits, the whole list.
var nextForSection = named(`SELECT c.id::text, c.number, c.applicant_name, coalesce(c.assignee_id::text, '')
	FROM (SELECT c.* FROM cases c
		WHERE c.state IN ('waiting_list', 'transfer_pending') AND c.facility_type = (SELECT type FROM facilities WHERE id = @home)::facility_type
		ORDER BY ` + WaitingOrder("c") + ` LIMIT @window) c LEFT JOIN placements p ON p.case_id = c.id
	WHERE c.id::text <> @exclude AND c.facility_id IS DISTINCT FROM @home AND NOT coalesce(p.review, false) AND ` + eligibleFor + `
		AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.case_id = c.id AND (o.state = 'proposed'
			OR (o.facility_id = @home AND o.section_code = @section AND o.state IN ('declined', 'expired'))))
	ORDER BY ` + WaitingOrder("c") + ` LIMIT 1`)

// nextWindow is how many cases from the head of the list nextCase looks at first.
const nextWindow = 1000

// nextCase runs nextForSection on q: the first window, then the whole list; sql.ErrNoRows
// when no case fits.
func nextCase(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, bed domain.Bed, exclude string, o *domain.Offer) error {
	for _, window := range []any{nextWindow, nil} {
		args := nextForSection.args(changeArgs{"home": bed.FacilityID, "section": bed.Section, "exclude": exclude, "window": window})
		err := q.QueryRowContext(ctx, nextForSection.sql, args...).Scan(&o.CaseID, &o.CaseNumber, &o.ApplicantName, &o.AssigneeID)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	return sql.ErrNoRows
}

// ProposeOffers implements domain.CaseTx.
func (t *lazyTx) ProposeOffers(ctx context.Context, bed domain.Bed, exclude string, now, due time.Time) ([]domain.Offer, error) {
	tx, err := t.begin()
	if err != nil {
		return nil, err
	}
	var out []domain.Offer
	for {
		var head []struct {
			Free   int
			Active bool
			Name   string
		}
		err := tx.Raw(`SELECT s.capacity - s.occupied - s.reserved - (SELECT count(*) FROM offers o
				WHERE o.facility_id = s.facility_id AND o.section_code = s.code AND o.state = 'proposed') AS free, f.active, f.name
			FROM facility_sections s JOIN facilities f ON f.id = s.facility_id
			WHERE s.facility_id = ? AND s.code = ? FOR UPDATE OF s`, bed.FacilityID, bed.Section).Scan(&head).Error
		if err != nil {
			return nil, fmt.Errorf("offer bed: %w", err)
		}
		if len(head) == 0 || head[0].Free <= 0 || !head[0].Active {
			return out, nil
		}
		o := domain.Offer{FacilityID: bed.FacilityID, FacilityName: head[0].Name, Section: bed.Section, State: domain.OfferProposed,
			ProposedAt: now, DueAt: due}
		err = nextCase(ctx, sqlTx(tx), bed, exclude, &o)
		if errors.Is(err, sql.ErrNoRows) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("next case for a bed: %w", err)
		}
		err = tx.Raw(`INSERT INTO offers (case_id, facility_id, section_code, state, proposed_at, due_at)
			VALUES (?, ?, ?, 'proposed', ?, ?) RETURNING id::text`, o.CaseID, o.FacilityID, o.Section, now, due).Scan(&o.ID).Error
		if err != nil {
			return nil, fmt.Errorf("record offer: %w", err)
		}
		out = append(out, o)
	}
}

// AnswerOffer implements domain.CaseTx.
func (t *lazyTx) AnswerOffer(ctx context.Context, id string, state domain.OfferState, d domain.OfferDecline, now time.Time) error {
	tx, err := t.begin()
	if err != nil {
		return err
	}
	res := tx.Exec(`UPDATE offers SET state = ?, answered_at = ?, reason = nullif(?, ''), note = ? WHERE id = ? AND state = 'proposed'`,
		string(state), now, d.Reason, d.Note, id)
	if res.Error != nil {
		return translate(res.Error, "offer")
	}
	if res.RowsAffected == 0 {
		return domain.Errorf(domain.ECONFLICT, "offer %s was answered meanwhile", id)
	}
	return nil
}

// casesAheadShown is how many of the cases passed over CasesAhead names.
const casesAheadShown = 20

// CasesAhead implements domain.CaseTx: the first cases before the case on its list that the
// home could take (eligibleFor), by walking the list from its head (waitingWalk): asked in one
// query, the planner read and sorted every case ahead, seconds for a case at the back of a long
// list.
func (t *lazyTx) CasesAhead(ctx context.Context, caseID, facilityID string) ([]string, error) {
	var q listQuerier = t.db.SQL
	if t.tx != nil {
		q = t.tx.Statement.ConnPool
	}
	var ft string
	var me waitingCursor
	var at sql.NullTime
	err := q.QueryRowContext(ctx, "SELECT facility_type::text, priority_rank, recognized_at, seq FROM cases WHERE id = $1", caseID).
		Scan(&ft, &me.rank, &at, &me.seq)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !at.Valid {
		return []string{}, nil // not on a list: nobody is before it
	}
	if err != nil {
		return nil, fmt.Errorf("cases ahead of %s: %w", caseID, err)
	}
	me.at = at.Time
	rows, err := waitingWalk(ctx, q, []string{eligibleFor}, changeArgs{"ft": ft, "home": facilityID, "section": ""},
		waitingSpan{before: &me}, casesAheadShown)
	if err != nil {
		return nil, fmt.Errorf("cases ahead of %s: %w", caseID, err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Number
	}
	return out, nil
}

// WithdrawOffers implements domain.CaseTx.
func (t *lazyTx) WithdrawOffers(ctx context.Context, caseID string, now time.Time) ([]domain.Bed, error) {
	var open int64
	db := t.tx
	if db == nil {
		db = t.db.Gorm.WithContext(ctx)
	}
	if err := db.Raw("SELECT count(*) FROM offers WHERE case_id = ? AND state = 'proposed'", caseID).Scan(&open).Error; err != nil {
		return nil, fmt.Errorf("open offers of %s: %w", caseID, err)
	}
	if open == 0 {
		return nil, nil
	}
	tx, err := t.begin()
	if err != nil {
		return nil, err
	}
	var beds []domain.Bed
	err = tx.Raw(`UPDATE offers SET state = 'withdrawn', answered_at = ? WHERE case_id = ? AND state = 'proposed'
		RETURNING facility_id::text, section_code AS section`, now, caseID).Scan(&beds).Error
	if err != nil {
		return nil, fmt.Errorf("withdraw offers of %s: %w", caseID, err)
	}
	return beds, nil
}

// Supervisors implements domain.CaseTx.
func (t *lazyTx) Supervisors(ctx context.Context) ([]string, error) {
	db := t.tx
	if db == nil {
		db = t.db.Gorm.WithContext(ctx)
	}
	var ids []string
	if err := db.Raw("SELECT id::text FROM users WHERE role = 'supervisor' AND disabled_at IS NULL ORDER BY id").Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("list supervisors: %w", err)
	}
	return ids, nil
}

type offerRow struct {
	ID            string
	CaseID        string
	Number        string
	ApplicantName string
	AssigneeID    *string
	FacilityID    string
	FacilityName  string
	SectionCode   string
	State         string
	ProposedAt    time.Time
	DueAt         time.Time
	AnsweredAt    *time.Time
	Reason        *string
	Note          string
}

func offersQuery(db *gorm.DB) *gorm.DB {
	return db.Table("offers o").Joins("JOIN cases c ON c.id = o.case_id").Joins("JOIN facilities f ON f.id = o.facility_id").
		Select(`o.id::text, o.case_id::text, c.number, c.applicant_name, c.assignee_id::text, o.facility_id::text, f.name AS facility_name,
			o.section_code, o.state, o.proposed_at, o.due_at, o.answered_at, o.reason, o.note`)
}

func (r offerRow) domain() domain.Offer {
	return domain.Offer{ID: r.ID, CaseID: r.CaseID, CaseNumber: r.Number, ApplicantName: r.ApplicantName, AssigneeID: deref(r.AssigneeID),
		FacilityID: r.FacilityID, FacilityName: r.FacilityName, Section: r.SectionCode, State: domain.OfferState(r.State),
		ProposedAt: r.ProposedAt.UTC(), DueAt: r.DueAt.UTC(), AnsweredAt: utcPtr(r.AnsweredAt), Reason: deref(r.Reason), Note: r.Note}
}

// Offers implements domain.OfferStore (the newest 500).
func (s *Cases) Offers(ctx context.Context, state domain.OfferState) ([]domain.Offer, error) {
	q := offersQuery(s.db.Gorm.WithContext(ctx))
	if state != "" {
		q = q.Where("o.state = ?", string(state))
	}
	return scanOffers(q.Order("o.proposed_at DESC, o.id").Limit(500))
}

// CaseOffers implements domain.OfferStore.
func (s *Cases) CaseOffers(ctx context.Context, caseID string) ([]domain.Offer, error) {
	return scanOffers(offersQuery(s.db.Gorm.WithContext(ctx)).Where("o.case_id = ?", caseID).Order("o.proposed_at DESC, o.id"))
}

// scanOffers runs an offers query.
func scanOffers(q *gorm.DB) ([]domain.Offer, error) {
	var rows []offerRow
	if err := q.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("offers: %w", err)
	}
	out := make([]domain.Offer, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// Offer implements domain.OfferStore.
func (s *Cases) Offer(ctx context.Context, id string) (*domain.Offer, error) {
	os, err := scanOffers(offersQuery(s.db.Gorm.WithContext(ctx)).Where("o.id = ?", id))
	if err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, domain.Errorf(domain.ENOTFOUND, "offer %s not found", id)
	}
	return &os[0], nil
}

// DueOffers implements domain.OfferStore (by the partial index offers_due).
func (s *Cases) DueOffers(ctx context.Context, now time.Time, limit int) ([]domain.Offer, error) {
	return scanOffers(offersQuery(s.db.Gorm.WithContext(ctx)).Where("o.state = 'proposed' AND o.due_at <= ?", now).
		Order("o.due_at, o.id").Limit(limit))
}

// DeclineReasons implements domain.OfferStore.
func (s *Cases) DeclineReasons(ctx context.Context) ([]domain.DeclineReason, error) {
	var out []domain.DeclineReason
	err := s.db.Gorm.WithContext(ctx).Raw(`SELECT code, title, applicant_refused, needs_text FROM decline_reasons
		WHERE active ORDER BY code = 'other', code`).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("decline reasons: %w", err)
	}
	return out, nil
}

// NextForBed returns the first waiting case a freed bed of this section would be offered to
// (nextForSection, as ProposeOffers asks it), "" when there is none; for the placement
// benchmark and operators' checks, outside any transaction.
func (s *Cases) NextForBed(ctx context.Context, bed domain.Bed) (string, error) {
	var o domain.Offer
	err := nextCase(ctx, s.db.SQL, bed, "", &o)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("next case for a bed: %w", err)
	}
	return o.CaseID, nil
}

// CancelNotices implements domain.CaseTx: the case's notices to relatives and representatives
// at these addresses that have not gone yet are cancelled, in the command's transaction.
func (t *lazyTx) CancelNotices(ctx context.Context, caseID string, recipients []string, now time.Time) (int, error) {
	tx, err := t.begin()
	if err != nil {
		return 0, err
	}
	res := tx.Exec(`UPDATE notices SET status = 'cancelled', updated_at = ?
		WHERE case_id = ? AND recipient IN ? AND audience IN ('relative', 'representative') AND status IN ('pending', 'failed')`,
		now, caseID, recipients)
	if res.Error != nil {
		return 0, fmt.Errorf("cancel notices of case %s: %w", caseID, res.Error)
	}
	return int(res.RowsAffected), nil
}
