package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"carepath/domain"
)

// NoticeChannel is the Postgres channel the relay listens on; a transaction that writes
// notices notifies it, and Postgres delivers the notification only if the transaction commits.
const NoticeChannel = "carepath_notices"

// Notices is the outbox and delivery log of notices (implements domain.NoticeStore and
// domain.Outbox), and the reminder scan's access to due deadlines.
type Notices struct {
	db *DB
	// sealer opens the relatives' phones and e-mails for reminders (OpensPersonal).
	sealer *Sealer
}

var _ domain.Outbox = (*Notices)(nil)

// WaitForCommits implements domain.Outbox: it holds a LISTEN on NoticeChannel on a connection
// of its own and calls wake on every notification, once at the start (to catch up with what
// was committed while nobody listened).
func (n *Notices) WaitForCommits(ctx context.Context, wake func()) error {
	conn, err := pgx.ConnectConfig(ctx, n.db.conf.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+NoticeChannel); err != nil {
		return err
	}
	wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		wake()
	}
}

// NewNotices returns the notices store.
func NewNotices(db *DB) *Notices { return &Notices{db: db} }

type noticeRow struct {
	ID             string `gorm:"primaryKey"`
	CaseID         *string
	SubjectKind    *string
	SubjectID      *string
	Happening      string
	Audience       string
	Channel        string
	Recipient      string
	Template       string
	Data           string // jsonb
	IdempotencyKey string
	Status         string
	Attempts       int
	ManualRetries  int
	LastError      string
	NotBefore      time.Time
	NextAttemptAt  time.Time
	EnqueuedUntil  *time.Time
	LockedUntil    *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DeliveredAt    *time.Time
}

func (noticeRow) TableName() string { return "notices" }

func (r noticeRow) domain() (domain.Notice, error) {
	n := domain.Notice{ID: r.ID, CaseID: deref(r.CaseID), SubjectKind: deref(r.SubjectKind), SubjectID: deref(r.SubjectID), Happening: domain.Happening(r.Happening), Audience: r.Audience,
		Channel: r.Channel, Recipient: r.Recipient, Template: r.Template, IdempotencyKey: r.IdempotencyKey,
		NotBefore: r.NotBefore, Status: domain.NoticeStatus(r.Status), Attempts: r.Attempts, ManualRetries: r.ManualRetries,
		LastError: r.LastError, CreatedAt: r.CreatedAt, DeliveredAt: r.DeliveredAt}
	if n.Status != domain.NoticeDelivered && n.Status != domain.NoticeDead {
		next := r.NextAttemptAt
		n.NextAttemptAt = &next
	}
	if err := json.Unmarshal([]byte(r.Data), &n.Data); err != nil {
		return n, fmt.Errorf("notice %s data: %w", r.ID, err)
	}
	return n, nil
}

// subscription is the happenings an agency chose for its webhook (none chosen: all).
type subscription struct {
	ID         string `db:"id"`
	Happenings string `db:"happenings"`
}

const subscriptionsSQL = `SELECT id::text AS id, array_to_string(webhook_happenings, ',') AS happenings
	FROM agencies WHERE id = ANY(?::uuid[]) AND cardinality(webhook_happenings) > 0`

func webhookAgencies(ns []domain.Notice) []string {
	var ids []string
	for _, n := range ns {
		if n.Channel == domain.NoticeWebhook && domain.IsUUID(n.Recipient) && !slices.Contains(ids, n.Recipient) {
			ids = append(ids, n.Recipient)
		}
	}
	return ids
}

// subscribed drops the webhook notices of happenings an agency did not choose, unless the law
// requires them (domain.Mandatory): the reminder scan's side of the rule noticesInsertSQL
// applies to a command's notices (a scan copies thousands with COPY, where a JSON insert cost
// its tick twice the time).
func subscribed(ns []domain.Notice, subs []subscription) []domain.Notice {
	if len(subs) == 0 {
		return ns
	}
	chose := map[string][]string{}
	for _, s := range subs {
		chose[s.ID] = strings.Split(s.Happenings, ",")
	}
	out := ns[:0:0]
	for _, n := range ns {
		if hs, ok := chose[n.Recipient]; ok && n.Channel == domain.NoticeWebhook && !domain.Mandatory(n) && !slices.Contains(hs, string(n.Happening)) {
			continue
		}
		out = append(out, n)
	}
	return out
}

// uuidArray writes ids as a Postgres array literal; ids are UUIDs, so nothing needs quoting.
func uuidArray(ids []string) string { return "{" + strings.Join(ids, ",") + "}" }

// ForCase implements domain.NoticeStore.
func (n *Notices) ForCase(ctx context.Context, caseID string) ([]domain.Notice, error) {
	var rows []noticeRow
	if err := n.db.Gorm.WithContext(ctx).Where("case_id = ?", caseID).Order("created_at DESC, id").Limit(1000).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("notices of case %s: %w", caseID, err)
	}
	out := make([]domain.Notice, 0, len(rows))
	for _, r := range rows {
		d, err := r.domain()
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Get returns one notice; ENOTFOUND.
func (n *Notices) Get(ctx context.Context, id string) (*domain.Notice, error) {
	var r noticeRow
	if err := findOne(n.db.Gorm.WithContext(ctx).Where("id = ?", id), &r, "notice", id); err != nil {
		return nil, err
	}
	d, err := r.domain()
	return &d, err
}

// Retry implements domain.NoticeStore: a fresh round of attempts from now.
func (n *Notices) Retry(ctx context.Context, id string, now time.Time) (*domain.Notice, error) {
	var out *domain.Notice
	err := n.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []noticeRow
		err := tx.Raw(`UPDATE notices SET status = 'pending', attempts = 0, manual_retries = manual_retries + 1,
				next_attempt_at = ?, enqueued_until = NULL, updated_at = ?
			WHERE id = ? AND status IN ('pending', 'failed', 'dead') RETURNING *`, now, now, id).Scan(&rows).Error
		if err != nil {
			return fmt.Errorf("retry notice %s: %w", id, err)
		}
		if len(rows) == 0 {
			var status string
			if err := tx.Raw("SELECT status FROM notices WHERE id = ?", id).Scan(&status).Error; err != nil {
				return fmt.Errorf("retry notice %s: %w", id, err)
			}
			if status == "" {
				return domain.Errorf(domain.ENOTFOUND, "notice %s not found", id)
			}
			return domain.Errorf(domain.ECONFLICT, "notice %s is %s: only a pending, failed or dead notice can be retried", id, status)
		}
		d, err := rows[0].domain()
		if err != nil {
			return err
		}
		out = &d
		return tx.Exec("SELECT pg_notify(?, '')", NoticeChannel).Error
	})
	return out, err
}

// Relay hands due notices to the queue: it locks up to limit owed notices that are due and
// neither handed over recently nor held by a worker (SKIP LOCKED, so relays in several workers
// share the work), calls enqueue with them, and marks the ids enqueue confirms as handed
// over until now+lease. A notice whose queue task is lost (Redis flushed) is handed over again
// once the lease ends. It returns how many notices it handed over.
func (n *Notices) Relay(ctx context.Context, now time.Time, limit int, lease time.Duration, enqueue func(ctx context.Context, due []domain.OwedNotice) ([]string, error)) (int, error) {
	var handed int
	var enqueueErr error
	err := n.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ids []domain.OwedNotice
		err := tx.Raw(`SELECT id, attempts FROM notices
			WHERE status IN ('pending', 'failed', 'sending') AND next_attempt_at <= ?
			  AND (enqueued_until IS NULL OR enqueued_until <= ?) AND (locked_until IS NULL OR locked_until <= ?)
			ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED`, now, now, now, limit).Scan(&ids).Error
		if err != nil || len(ids) == 0 {
			return err
		}
		// What the queue took is recorded even when it failed part way (Redis went down).
		var done []string
		done, enqueueErr = enqueue(ctx, ids)
		if len(done) > 0 {
			if err := tx.Exec("UPDATE notices SET enqueued_until = ? WHERE id = ANY(?::uuid[])", now.Add(lease), uuidArray(done)).Error; err != nil {
				return err
			}
		}
		handed = len(done)
		return nil
	})
	if err == nil {
		err = enqueueErr
	}
	if err != nil {
		return handed, fmt.Errorf("relay notices: %w", err)
	}
	return handed, nil
}

// Claim takes a due notice for one delivery attempt: it counts the attempt and holds the notice
// until now+hold, so no other worker delivers it meanwhile. It returns nil when the notice is
// not there to claim (delivered, dead, not due, or held by another worker).
func (n *Notices) Claim(ctx context.Context, id string, now time.Time, hold time.Duration) (*domain.Delivery, error) {
	got, err := n.ClaimMany(ctx, []string{id}, now, hold)
	if err != nil {
		return nil, err
	}
	return got[id], nil
}

// ClaimMany claims several notices at once (see Claim), keyed by id; the ones not there to
// claim are absent. It runs at every attempt, so it reads its rows with database/sql directly.
func (n *Notices) ClaimMany(ctx context.Context, ids []string, now time.Time, hold time.Duration) (map[string]*domain.Delivery, error) {
	rows, err := n.db.SQL.QueryContext(ctx, `WITH c AS (
			UPDATE notices SET status = 'sending', attempts = attempts + 1, locked_until = $1, updated_at = $2
			WHERE id = ANY($3::uuid[]) AND status IN ('pending', 'failed', 'sending') AND next_attempt_at <= $2
			  AND (locked_until IS NULL OR locked_until <= $2)
			RETURNING id, COALESCE(case_id::text, '') AS case_id, COALESCE(subject_kind, '') AS subject_kind,
				COALESCE(subject_id::text, '') AS subject_id, happening, audience, channel, recipient, template, data,
				idempotency_key, status, attempts, manual_retries, last_error, not_before, next_attempt_at, created_at)
		SELECT c.*, COALESCE(cs.number, ''), a.name, a.webhook_url, a.webhook_secret, a.disabled_at IS NOT NULL, u.email
		FROM c LEFT JOIN cases cs ON cs.id = NULLIF(c.case_id, '')::uuid
		LEFT JOIN agencies a ON c.channel = 'webhook' AND a.id::text = c.recipient
		LEFT JOIN users u ON c.audience IN ('specialist', 'supervisor') AND u.id::text = c.recipient AND u.disabled_at IS NULL`,
		now.Add(hold), now, uuidArray(ids))
	if err != nil {
		return nil, fmt.Errorf("claim notices: %w", err)
	}
	defer rows.Close()
	out := make(map[string]*domain.Delivery, len(ids))
	for rows.Next() {
		var (
			d                                           domain.Delivery
			data                                        []byte
			nextAttempt                                 time.Time
			agencyName, webhookURL, webhookSecret, mail sql.NullString
		)
		err := rows.Scan(&d.ID, &d.CaseID, &d.SubjectKind, &d.SubjectID, &d.Happening, &d.Audience, &d.Channel, &d.Recipient, &d.Template, &data,
			&d.IdempotencyKey, &d.Status, &d.Attempts, &d.ManualRetries, &d.LastError, &d.NotBefore, &nextAttempt, &d.CreatedAt,
			&d.CaseNumber, &agencyName, &webhookURL, &webhookSecret, &d.AgencyDisabled, &mail)
		if err != nil {
			return nil, fmt.Errorf("claim notices: %w", err)
		}
		if err := json.Unmarshal(data, &d.Data); err != nil {
			return nil, fmt.Errorf("notice %s data: %w", d.ID, err)
		}
		d.NextAttemptAt = &nextAttempt
		d.AgencyName, d.WebhookURL, d.WebhookSecret, d.UserEmail = agencyName.String, webhookURL.String, webhookSecret.String, mail.String
		out[d.ID] = &d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim notices: %w", err)
	}
	return out, nil
}

// Delivered records a delivery. A guardianship notice may be watched by a guardianship_notice
// deadline, which its delivery meets (or misses, when late) in the same transaction.
func (n *Notices) Delivered(ctx context.Context, id, audience string, now time.Time) error {
	const mark = `UPDATE notices SET status = 'delivered', delivered_at = ?, locked_until = NULL, last_error = '', updated_at = ?
		WHERE id = ? AND status <> 'delivered'`
	if audience != domain.AudienceGuardianship {
		_, err := n.db.SQL.ExecContext(ctx, `UPDATE notices SET status = 'delivered', delivered_at = $1, locked_until = NULL,
			last_error = '', updated_at = $1 WHERE id = $2 AND status <> 'delivered'`, now, id)
		if err != nil {
			return fmt.Errorf("record delivery of notice %s: %w", id, err)
		}
		return nil
	}
	return n.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(mark, now, now, id).Error; err != nil {
			return fmt.Errorf("record delivery of notice %s: %w", id, err)
		}
		var caseIDs []string
		err := tx.Raw(`UPDATE deadlines SET state = CASE WHEN due_at > ? THEN 'met' ELSE 'missed' END::deadline_state, closed_at = ?, remind_at = NULL
			WHERE kind = 'guardianship_notice' AND ref = ? AND state = 'open' RETURNING case_id`, now, now, id).Scan(&caseIDs).Error
		if err != nil {
			return fmt.Errorf("meet guardianship deadline of notice %s: %w", id, err)
		}
		for _, c := range caseIDs {
			err := tx.Exec(`UPDATE cases SET next_due_at = (SELECT min(due_at) FROM deadlines WHERE case_id = ? AND state = 'open') WHERE id = ?`, c, c).Error
			if err != nil {
				return fmt.Errorf("next due of case %s: %w", c, err)
			}
		}
		return nil
	})
}

// DeliveredMany records the deliveries of many notices in one statement (none of them
// watched by a deadline: see Delivered).
func (n *Notices) DeliveredMany(ctx context.Context, ids []string, now time.Time) error {
	_, err := n.db.SQL.ExecContext(ctx, `UPDATE notices SET status = 'delivered', delivered_at = $1, locked_until = NULL,
		last_error = '', updated_at = $1 WHERE id = ANY($2::uuid[]) AND status <> 'delivered'`, now, uuidArray(ids))
	if err != nil {
		return fmt.Errorf("record %d deliveries: %w", len(ids), err)
	}
	return nil
}

// Failed records a failed attempt: the notice is due again at next, or dead.
func (n *Notices) Failed(ctx context.Context, id string, attempt int, now time.Time, cause string, next time.Time, dead bool) error {
	status := domain.NoticeFailed
	if dead {
		status = domain.NoticeDead
	}
	if len(cause) > 2000 {
		cause = cause[:2000]
	}
	err := n.db.Gorm.WithContext(ctx).Exec(`UPDATE notices SET status = ?, last_error = ?, next_attempt_at = ?, locked_until = NULL,
			enqueued_until = NULL, updated_at = ?
		WHERE id = ? AND attempts = ? AND status = 'sending'`, string(status), strings.ToValidUTF8(cause, "?"), next, now, id, attempt).Error
	if err != nil {
		return fmt.Errorf("record failure of notice %s: %w", id, err)
	}
	return nil
}

// Defer gives a claimed attempt back without counting it: the notice waits until until (an SMS
// in quiet hours).
func (n *Notices) Defer(ctx context.Context, id string, attempt int, now, until time.Time) error {
	err := n.db.Gorm.WithContext(ctx).Exec(`UPDATE notices SET attempts = attempts - 1,
			status = CASE WHEN attempts - 1 = 0 THEN 'pending' ELSE 'failed' END::notice_status,
			next_attempt_at = ?, locked_until = NULL, enqueued_until = NULL, updated_at = ?
		WHERE id = ? AND attempts = ? AND status = 'sending'`, until, now, id, attempt).Error
	if err != nil {
		return fmt.Errorf("defer notice %s: %w", id, err)
	}
	return nil
}

// Backlog counts the notices still owed and how long the oldest due one has waited.
func (n *Notices) Backlog(ctx context.Context, now time.Time) (owed int64, oldestDue time.Duration, err error) {
	var r struct {
		Owed   int64
		Oldest *time.Time
	}
	err = n.db.Gorm.WithContext(ctx).Raw(`SELECT count(*) AS owed,
			min(next_attempt_at) FILTER (WHERE next_attempt_at <= ?) AS oldest
		FROM notices WHERE status IN ('pending', 'failed', 'sending')`, now).Scan(&r).Error
	if err != nil {
		return 0, 0, fmt.Errorf("notice backlog: %w", err)
	}
	if r.Oldest != nil {
		oldestDue = now.Sub(*r.Oldest)
	}
	return r.Owed, oldestDue, nil
}

// Supervisors lists the ids of the active supervisors.
func (n *Notices) Supervisors(ctx context.Context) ([]string, error) {
	var ids []string
	err := n.db.Gorm.WithContext(ctx).Raw(`SELECT id FROM users WHERE role = 'supervisor' AND disabled_at IS NULL ORDER BY created_at, id`).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("list supervisors: %w", err)
	}
	return ids, nil
}

type dueRow struct {
	ID int64 `db:"id"`
	// CaseID is nil for a deadline without a case (SubjectName then names what it watches).
	CaseID            *string    `db:"case_id"`
	Kind              string     `db:"kind"`
	Ref               string     `db:"ref"`
	OpenedAt          time.Time  `db:"opened_at"`
	DueOn             time.Time  `db:"due_on"`
	DueAt             time.Time  `db:"due_at"`
	ReminderStage     int        `db:"reminder_stage"`
	Number            string     `db:"number"`
	State             string     `db:"state"`
	Version           int        `db:"version"`
	FacilityType      string     `db:"facility_type"`
	ApplicantName     string     `db:"applicant_name"`
	LegalCapacity     string     `db:"legal_capacity"`
	Applicant         []byte     `db:"applicant"`
	Contacts          []byte     `db:"contacts"`
	Personal          []byte     `db:"personal"`
	Checklist         []byte     `db:"checklist"`
	HealthOrgID       *string    `db:"health_org_id"`
	GuardianshipID    *string    `db:"guardianship_id"`
	FacilityID        *string    `db:"facility_id"`
	VoucherFacilityID *string    `db:"voucher_facility_id"`
	VoucherValidUntil *time.Time `db:"voucher_valid_until"`
	LeaveReturnBy     *time.Time `db:"leave_return_by"`
	AssigneeID        *string    `db:"assignee_id"`
	VfName            *string    `db:"vf_name"`
	VfType            *string    `db:"vf_type"`
	VfAgencyID        *string    `db:"vf_agency_id"`
	// Owner is who promised a call-back (contact_follow_up deadlines only).
	Owner *string `db:"owner"`
	// SubjectName is the caller's name (a call-back) or the surveyed person's (a lead).
	SubjectName string `db:"subject_name"`
}

// noticeColumns are the outbox columns a scan copies in.
var noticeColumns = []string{"id", "case_id", "subject_kind", "subject_id", "happening", "audience", "channel", "recipient", "template", "data",
	"idempotency_key", "status", "not_before", "next_attempt_at", "created_at", "updated_at"}

// ScanDue takes up to limit open deadlines whose next reminder is due (by the remind_at index,
// so the cost grows with the due ones, not with all cases), lets plan decide each, and writes
// the notices and the deadlines' new reminder stages in one transaction. Deadlines locked by a
// concurrent scan are skipped; a stage is recorded with its notices, so it is sent once.
//
// It works on the pgx connection directly: its reminders go in with COPY. A reminder's key
// names its deadline and stage, and the locked row's stage moves on in the same transaction, so
// no reminder can already be there.
func (n *Notices) ScanDue(ctx context.Context, now time.Time, limit int, plan func(r domain.DueReminder) domain.ReminderOutcome) (domain.ScanResult, error) {
	var res domain.ScanResult
	conn, err := n.db.SQL.Conn(ctx)
	if err != nil {
		return res, fmt.Errorf("scan: %w", err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		return pgx.BeginFunc(ctx, dc.(*stdlib.Conn).Conn(), func(tx pgx.Tx) error {
			rows, _ := tx.Query(ctx, `SELECT d.id, d.case_id::text AS case_id, d.kind, d.ref, d.opened_at, d.due_on, d.due_at, d.reminder_stage,
					COALESCE(c.number, '') AS number, COALESCE(c.state::text, '') AS state, COALESCE(c.version, 0) AS version,
					COALESCE(c.facility_type::text, '') AS facility_type, COALESCE(c.applicant_name, '') AS applicant_name,
					COALESCE(c.legal_capacity::text, '') AS legal_capacity, c.applicant, c.contacts, c.personal, c.checklist,
					c.health_org_id, c.guardianship_id, c.facility_id, c.voucher_facility_id, c.voucher_valid_until,
					c.leave_return_by, c.assignee_id, vf.name AS vf_name, vf.type AS vf_type, vf.agency_id AS vf_agency_id,
					ct.taken_by AS owner, COALESCE(ct.caller_name, l.full_name, '') AS subject_name
				FROM deadlines d LEFT JOIN cases c ON c.id = d.case_id
				LEFT JOIN facilities vf ON vf.id = c.voucher_facility_id
				LEFT JOIN contacts ct ON d.kind = 'contact_follow_up' AND ct.id::text = d.ref
				LEFT JOIN leads l ON d.kind = 'lead_triage' AND l.id::text = d.ref
				WHERE d.state = 'open' AND d.remind_at <= $1
				ORDER BY d.remind_at LIMIT $2 FOR UPDATE OF d SKIP LOCKED`, now, limit)
			due, err := pgx.CollectRows(rows, pgx.RowToStructByName[dueRow])
			if err != nil {
				return fmt.Errorf("select due deadlines: %w", err)
			}
			res.Due = len(due)
			if len(due) == 0 {
				return nil
			}
			ids := make([]int64, 0, len(due))
			sent := make([]int, 0, len(due))
			remind := make([]*time.Time, 0, len(due))
			var notices []domain.Notice
			for _, r := range due {
				dr, err := r.reminder()
				if err != nil {
					return err
				}
				if dr.Case != nil {
					if err := n.openContacts(r.Personal, dr.Case); err != nil {
						return err
					}
				}
				out := plan(dr)
				ids = append(ids, r.ID)
				if out.ExpireVoucher {
					// The event closes the deadline; until it does, look again in a minute.
					again := now.Add(time.Minute)
					sent, remind = append(sent, r.ReminderStage), append(remind, &again)
					res.Expire = append(res.Expire, deref(r.CaseID))
					continue
				}
				sent, remind = append(sent, out.Sent), append(remind, out.RemindAt)
				notices = append(notices, out.Notices...)
			}
			if agencies := webhookAgencies(notices); len(agencies) > 0 {
				rows, _ := tx.Query(ctx, strings.Replace(subscriptionsSQL, "?", "$1", 1), uuidArray(agencies))
				subs, err := pgx.CollectRows(rows, pgx.RowToStructByName[subscription])
				if err != nil {
					return fmt.Errorf("webhook subscriptions: %w", err)
				}
				notices = subscribed(notices, subs)
			}
			if len(notices) > 0 {
				_, err := tx.CopyFrom(ctx, pgx.Identifier{"notices"}, noticeColumns, pgx.CopyFromSlice(len(notices), func(i int) ([]any, error) {
					nt := notices[i]
					data := nt.Data
					if data == nil {
						data = map[string]any{}
					}
					return []any{nt.ID, nullable(nt.CaseID), nullable(nt.SubjectKind), nullable(nt.SubjectID), string(nt.Happening), nt.Audience, nt.Channel, nt.Recipient, nt.Template, data,
						nt.IdempotencyKey, string(domain.NoticePending), nt.NotBefore, nt.NotBefore, nt.CreatedAt, nt.CreatedAt}, nil
				}))
				if err != nil {
					return translate(err, "reminder notice")
				}
				if _, err := tx.Exec(ctx, "SELECT pg_notify($1, '')", NoticeChannel); err != nil {
					return fmt.Errorf("notify relay: %w", err)
				}
				res.Notices = len(notices)
			}
			_, err = tx.Exec(ctx, `UPDATE deadlines d SET reminder_stage = v.sent, remind_at = v.remind_at
				FROM unnest($1::bigint[], $2::integer[], $3::timestamptz[]) AS v(id, sent, remind_at)
				WHERE d.id = v.id`, ids, sent, remind)
			if err != nil {
				return fmt.Errorf("record reminder stages: %w", err)
			}
			return nil
		})
	})
	if err != nil {
		return domain.ScanResult{}, err
	}
	return res, nil
}

func (r dueRow) reminder() (domain.DueReminder, error) {
	d := domain.Deadline{ID: r.ID, Kind: domain.DeadlineKind(r.Kind), Ref: r.Ref, OpenedAt: r.OpenedAt,
		DueOn: domain.NewDate(r.DueOn.Year(), r.DueOn.Month(), r.DueOn.Day()), DueAt: r.DueAt, State: domain.DeadlineOpen}
	d.Owner = deref(r.Owner)
	if r.CaseID == nil {
		kind := domain.SubjectContact
		if d.Kind == domain.DeadlineLeadTriage {
			kind = domain.SubjectLead
		}
		return domain.DueReminder{Deadline: d, Sent: r.ReminderStage, Subject: &domain.Subject{Kind: kind, ID: r.Ref, Name: r.SubjectName}}, nil
	}
	c := &domain.Case{ID: *r.CaseID, Number: r.Number, State: domain.State(r.State), Version: r.Version,
		FacilityType: domain.FacilityType(r.FacilityType), HealthOrgID: deref(r.HealthOrgID), GuardianshipID: deref(r.GuardianshipID),
		FacilityID: deref(r.FacilityID), VoucherFacilityID: deref(r.VoucherFacilityID), VoucherValidUntil: timeDate(r.VoucherValidUntil),
		LeaveReturnBy: timeDate(r.LeaveReturnBy), AssigneeID: deref(r.AssigneeID)}
	var pub applicantPublic
	if err := json.Unmarshal(r.Applicant, &pub); err != nil {
		return domain.DueReminder{}, fmt.Errorf("case %s applicant: %w", c.ID, err)
	}
	c.Applicant = domain.Applicant{FullName: r.ApplicantName, BirthDate: pub.BirthDate, Gender: pub.Gender,
		LegalCapacity: domain.LegalCapacity(r.LegalCapacity), DisabilityGroup: pub.DisabilityGroup}
	if err := json.Unmarshal(r.Contacts, &c.Contacts); err != nil {
		return domain.DueReminder{}, fmt.Errorf("case %s contacts: %w", c.ID, err)
	}
	if err := json.Unmarshal(r.Checklist, &c.Checklist); err != nil {
		return domain.DueReminder{}, fmt.Errorf("case %s checklist: %w", c.ID, err)
	}
	out := domain.DueReminder{Deadline: d, Sent: r.ReminderStage, Case: c}
	if r.VoucherFacilityID != nil && r.VfName != nil {
		out.Facilities = []domain.Facility{{ID: *r.VoucherFacilityID, Name: *r.VfName, Type: domain.FacilityType(deref(r.VfType)), AgencyID: deref(r.VfAgencyID)}}
	}
	return out, nil
}
