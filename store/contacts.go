package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"carepath/domain"
)

// Contacts is the hotline's contact log (implements domain.ContactLog). The caller's phone is
// sealed and indexed by its keyed blind index; a promised call-back on a case is a row of the
// deadlines table, reminded by the same scan as every deadline.
type Contacts struct {
	db     *DB
	sealer *Sealer
	phones *PhoneIndex
}

// NewContacts returns the contact log.
func NewContacts(db *DB, sealer *Sealer, phones *PhoneIndex) *Contacts {
	return &Contacts{db: db, sealer: sealer, phones: phones}
}

type contactRow struct {
	ID             string
	Seq            int64
	CaseID         *string
	CaseNumber     *string
	Channel        string
	Direction      string
	Party          string
	Topic          string
	CallerName     string
	CallerPhone    []byte
	Question       string
	Answer         string
	FollowUpDue    *time.Time
	FollowUpDoneAt *time.Time
	FollowUpOf     *string
	TakenBy        string
	TakenByName    string
	CreatedAt      time.Time
}

func (c *Contacts) record(r contactRow) (domain.ContactRecord, error) {
	out := domain.ContactRecord{ID: r.ID, CaseID: deref(r.CaseID), CaseNumber: deref(r.CaseNumber),
		Channel: domain.ContactChannel(r.Channel), Direction: domain.ContactDirection(r.Direction), Party: domain.ContactParty(r.Party),
		Topic: domain.ContactTopic(r.Topic), TopicLabel: domain.ContactTopicLabel(domain.ContactTopic(r.Topic)),
		CallerName: r.CallerName, Question: r.Question, Answer: r.Answer, FollowUpDue: timeDate(r.FollowUpDue),
		FollowUpDoneAt: r.FollowUpDoneAt, FollowUpOf: deref(r.FollowUpOf), TakenBy: r.TakenBy, TakenByName: r.TakenByName,
		CreatedAt: r.CreatedAt.UTC()}
	if r.CallerPhone != nil {
		p, err := c.sealer.Open(r.CallerPhone)
		if err != nil {
			return out, fmt.Errorf("open phone of contact %s: %w", r.ID, err)
		}
		out.CallerPhone = string(p)
	}
	return out, nil
}

const contactSelect = `SELECT ct.id::text, ct.seq, ct.case_id::text, cs.number AS case_number, ct.channel, ct.direction, ct.party,
	ct.topic, ct.caller_name, ct.caller_phone, ct.question, ct.answer, ct.follow_up_due, ct.follow_up_done_at,
	ct.follow_up_of::text, ct.taken_by, ct.taken_by_name, ct.created_at
	FROM contacts ct LEFT JOIN cases cs ON cs.id = ct.case_id`

// nextDueSQL keeps a case's next_due_at (the overdue filter) in step with its open deadlines.
const nextDueSQL = `UPDATE cases SET next_due_at = (SELECT min(due_at) FROM deadlines WHERE case_id = ? AND state = 'open') WHERE id = ?`

// openRefDeadline opens a deadline that watches something besides the case's state (a
// call-back, a contact request), in the caller's transaction.
//
// caseID "" opens a deadline without a case (a call-back promised to a caller with no case, a
// lead's triage): its kind and ref say what it watches.
func openRefDeadline(tx *gorm.DB, caseID string, d domain.Deadline) error {
	err := tx.Exec(`INSERT INTO deadlines (case_id, kind, ref, opened_at, due_on, due_at, state, remind_at)
		VALUES (NULLIF(?, '')::uuid, ?, ?, ?, ?, ?, 'open', ?)`, caseID, string(d.Kind), d.Ref, d.OpenedAt, d.DueOn.Time(), d.DueAt,
		domain.FirstReminder(d)).Error
	if err != nil {
		return translate(err, string(d.Kind)+" deadline")
	}
	if caseID == "" {
		return nil
	}
	return tx.Exec(nextDueSQL, caseID, caseID).Error
}

// closeRefDeadline closes such a deadline when what it watches happens at now: met, or missed
// when late.
// caseID "" closes a deadline without a case.
func closeRefDeadline(tx *gorm.DB, caseID string, kind domain.DeadlineKind, ref string, now time.Time) error {
	const closeSQL = `UPDATE deadlines SET state = CASE WHEN due_at > ? THEN 'met' ELSE 'missed' END::deadline_state, closed_at = ?, remind_at = NULL
		WHERE kind = ? AND ref = ? AND state = 'open' AND `
	if caseID == "" {
		if err := tx.Exec(closeSQL+"case_id IS NULL", now, now, string(kind), ref).Error; err != nil {
			return fmt.Errorf("close %s deadline %s: %w", kind, ref, err)
		}
		return nil
	}
	if err := tx.Exec(closeSQL+"case_id = ?", now, now, string(kind), ref, caseID).Error; err != nil {
		return fmt.Errorf("close %s deadline %s: %w", kind, ref, err)
	}
	return tx.Exec(nextDueSQL, caseID, caseID).Error
}

// Add implements domain.ContactLog.
func (c *Contacts) Add(ctx context.Context, r *domain.ContactRecord, followUp *domain.Deadline, now time.Time) error {
	return c.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if r.CaseID != "" {
			var number string
			if err := tx.Raw("SELECT number FROM cases WHERE id = ?", r.CaseID).Scan(&number).Error; err != nil {
				return fmt.Errorf("case of contact: %w", err)
			}
			if number == "" {
				return domain.Errorf(domain.ENOTFOUND, "case %s not found", r.CaseID)
			}
			r.CaseNumber = number
		}
		if r.FollowUpOf != "" {
			if err := c.meetFollowUp(tx, r.FollowUpOf, now); err != nil {
				return err
			}
		}
		var phone, key []byte
		if r.CallerPhone != "" {
			phone, key = c.sealer.Seal([]byte(r.CallerPhone)), c.phones.Key(r.CallerPhone)
		}
		var due *time.Time
		if r.FollowUpDue != nil {
			t := r.FollowUpDue.Time()
			due = &t
		}
		err := tx.Exec(`INSERT INTO contacts (id, case_id, channel, direction, party, topic, caller_name, caller_phone, phone_key,
				question, answer, follow_up_due, follow_up_of, taken_by, taken_by_name, created_at)
			VALUES (?, NULLIF(?, '')::uuid, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, '')::uuid, ?, ?, ?)`,
			r.ID, r.CaseID, string(r.Channel), string(r.Direction), string(r.Party), string(r.Topic), r.CallerName, phone, key,
			r.Question, r.Answer, due, r.FollowUpOf, r.TakenBy, r.TakenByName, r.CreatedAt).Error
		if err != nil {
			return translate(err, "contact")
		}
		if followUp == nil {
			return nil
		}
		return openRefDeadline(tx, r.CaseID, *followUp)
	})
}

// meetFollowUp marks an earlier contact's call-back made and closes its deadline: met, or
// missed when it is late.
func (c *Contacts) meetFollowUp(tx *gorm.DB, contactID string, now time.Time) error {
	var caseIDs []string
	err := tx.Raw(`UPDATE contacts SET follow_up_done_at = ? WHERE id = ? AND follow_up_due IS NOT NULL AND follow_up_done_at IS NULL
		RETURNING COALESCE(case_id::text, '')`, now, contactID).Scan(&caseIDs).Error
	if err != nil {
		return fmt.Errorf("meet follow-up of contact %s: %w", contactID, err)
	}
	if len(caseIDs) == 0 {
		var exists bool
		if err := tx.Raw("SELECT EXISTS (SELECT 1 FROM contacts WHERE id = ?)", contactID).Scan(&exists).Error; err != nil {
			return fmt.Errorf("meet follow-up of contact %s: %w", contactID, err)
		}
		if !exists {
			return domain.Errorf(domain.ENOTFOUND, "contact %s not found", contactID)
		}
		return &domain.Error{Code: domain.ECONFLICT, Field: "follow_up_of",
			Message: fmt.Sprintf("contact %s owes no call-back (none was promised, or it was made)", contactID)}
	}
	return closeRefDeadline(tx, caseIDs[0], domain.DeadlineContactFollowUp, contactID, now)
}

// ForCase implements domain.ContactLog.
func (c *Contacts) ForCase(ctx context.Context, caseID string, limit int) ([]domain.ContactRecord, error) {
	var rows []contactRow
	err := c.db.Gorm.WithContext(ctx).Raw(contactSelect+` WHERE ct.case_id = ? ORDER BY ct.seq DESC LIMIT ?`, caseID, limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("contacts of case %s: %w", caseID, err)
	}
	return c.records(rows)
}

func (c *Contacts) records(rows []contactRow) ([]domain.ContactRecord, error) {
	out := make([]domain.ContactRecord, 0, len(rows))
	for _, r := range rows {
		rec, err := c.record(r)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// likePattern is a LIKE pattern matching s anywhere.
func likePattern(s string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s) + "%"
}

// Find implements domain.ContactLog: newest first by seq, or the open call-backs soonest due
// first; the cursor is the last row's seq (and due date).
func (c *Contacts) Find(ctx context.Context, f domain.ContactFilter) (domain.ContactPage, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) { where, args = append(where, cond), append(args, a...) }
	if f.Topic != "" {
		add("ct.topic = ?", string(f.Topic))
	}
	if f.From != nil {
		add("ct.created_at >= ?", *f.From)
	}
	if f.To != nil {
		add("ct.created_at < ?", *f.To)
	}
	switch {
	case f.Phone != "":
		add("ct.phone_key IN ?", c.phones.Keys(f.Phone))
	case f.Q != "":
		p := likePattern(f.Q)
		add("(ct.caller_name ILIKE ? OR ct.question ILIKE ? OR ct.answer ILIKE ?)", p, p, p)
	}
	order := "ct.seq DESC"
	if f.OpenFollowUps {
		add("ct.follow_up_due IS NOT NULL AND ct.follow_up_done_at IS NULL")
		order = "ct.follow_up_due, ct.seq"
	}
	if f.Cursor != "" {
		due, seqText, dueCursor := strings.Cut(f.Cursor, "/")
		if !dueCursor {
			seqText = due
		}
		seq, err := strconv.ParseInt(seqText, 10, 64)
		if err != nil || dueCursor != f.OpenFollowUps {
			return domain.ContactPage{}, domain.Invalid("cursor", "is not a cursor this list gave")
		}
		if f.OpenFollowUps {
			d, err := domain.ParseDate(due)
			if err != nil {
				return domain.ContactPage{}, domain.Invalid("cursor", "is not a cursor this list gave")
			}
			add("(ct.follow_up_due, ct.seq) > (?, ?)", d.Time(), seq)
		} else {
			add("ct.seq < ?", seq)
		}
	}
	q := contactSelect
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY " + order + " LIMIT ?"
	args = append(args, f.Limit+1)
	var rows []contactRow
	if err := c.db.Gorm.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return domain.ContactPage{}, fmt.Errorf("find contacts: %w", err)
	}
	page := domain.ContactPage{}
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		last := rows[len(rows)-1]
		page.NextCursor = strconv.FormatInt(last.Seq, 10)
		if f.OpenFollowUps {
			page.NextCursor = domain.DateOf(*last.FollowUpDue).String() + "/" + page.NextCursor
		}
	}
	items, err := c.records(rows)
	if err != nil {
		return domain.ContactPage{}, err
	}
	page.Items = items
	return page, nil
}
