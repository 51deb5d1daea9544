package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"carepath/domain"
)

// Cases implements domain.CaseStore on Postgres.
type Cases struct {
	db     *DB
	sealer *Sealer
	// Phones, when set, indexes the phones of each new case for search (store/casephones.go).
	Phones *PhoneIndex
	// AfterSave, when set, runs inside each case transaction after the case and its change are
	// written (the notices outbox hooks in here).
	AfterSave func(ctx context.Context, tx *gorm.DB, c *domain.Case, ch *domain.Change) error
}

// NewCases returns the case store.
func NewCases(db *DB, sealer *Sealer) *Cases { return &Cases{db: db, sealer: sealer} }

// caseRow is the cases table as gorm sees it.
type caseRow struct {
	ID                string `gorm:"primaryKey"`
	Seq               int64  `gorm:"->"`
	Number            string
	State             string
	Version           int
	Channel           string
	FacilityType      string
	ApplicantName     string
	LegalCapacity     string
	Applicant         string // jsonb
	Personal          []byte
	Contacts          string // jsonb
	HealthOrgID       *string
	GuardianshipID    *string
	FacilityID        *string
	VoucherFacilityID *string
	VoucherValidUntil *time.Time
	LeaveReturnBy     *time.Time
	IPPSUNumber       *string    `gorm:"column:ippsu_number"`
	IPPSUDate         *time.Time `gorm:"column:ippsu_date"`
	AssigneeID        *string
	FiledByAgencyID   *string
	Checklist         string // jsonb
	AccessCodeHash    string
	NextDueAt         *time.Time
	StateEnteredAt    time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

func (caseRow) TableName() string { return "cases" }

// applicantPublic is the part of the applicant stored in clear.
type applicantPublic struct {
	BirthDate       domain.Date `json:"birth_date"`
	Gender          string      `json:"gender"`
	DisabilityGroup string      `json:"disability_group"`
}

// applicantPersonal is the part sealed at rest.
type applicantPersonal struct {
	SNILS    string `json:"snils"`
	Passport string `json:"passport,omitempty"`
	Address  string `json:"address"`
	// Phone and Contacts: the applicant's phone and how to reach each contact (casephones.go).
	Phone    string          `json:"phone,omitempty"`
	Contacts []contactSecret `json:"contacts,omitempty"`
}

type historyRow struct {
	CaseID    string
	Version   int
	Event     string
	FromState string
	ToState   string
	ActorID   string
	ActorName string
	ActorRole string
	Comment   string
	Payload   string // jsonb
	At        time.Time
	PrevHash  string
	Hash      string
}

func (historyRow) TableName() string { return "case_history" }

// deadlineRow is a deadline as the generator copies it and as a command's statement reads it
// (JSON; the id comes from the table, the case from the statement).
type deadlineRow struct {
	ID       int64      `gorm:"primaryKey;->" json:"-"`
	CaseID   string     `json:"-"`
	Kind     string     `json:"kind"`
	Ref      string     `json:"ref"`
	OpenedAt time.Time  `json:"opened_at"`
	DueOn    time.Time  `json:"due_on"` // midnight UTC of the day: the date column takes the day
	DueAt    time.Time  `json:"due_at"`
	State    string     `json:"state"`
	ClosedAt *time.Time `json:"closed_at"`
	RemindAt *time.Time `json:"remind_at"`
}

func (deadlineRow) TableName() string { return "deadlines" }

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func dateTime(d *domain.Date) *time.Time {
	if d == nil {
		return nil
	}
	t := d.Time()
	return &t
}

func timeDate(t *time.Time) *domain.Date {
	if t == nil {
		return nil
	}
	d := domain.NewDate(t.Year(), t.Month(), t.Day())
	return &d
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal %T: %v", v, err))
	}
	return string(b)
}

func (s *Cases) toRow(c *domain.Case) caseRow {
	r := narrowRow(c)
	s.wideToRow(c, &r)
	return r
}

// narrowRow is the case's row without its wide columns (see wideSnapshot).
func narrowRow(c *domain.Case) caseRow {
	r := caseRow{
		ID: c.ID, Number: c.Number, State: string(c.State), Version: c.Version, Channel: string(c.Channel),
		FacilityType: string(c.FacilityType), ApplicantName: c.Applicant.FullName, LegalCapacity: string(c.Applicant.LegalCapacity),
		HealthOrgID: nullable(c.HealthOrgID), GuardianshipID: nullable(c.GuardianshipID), FacilityID: nullable(c.FacilityID),
		VoucherFacilityID: nullable(c.VoucherFacilityID), VoucherValidUntil: dateTime(c.VoucherValidUntil),
		LeaveReturnBy: dateTime(c.LeaveReturnBy), AssigneeID: nullable(c.AssigneeID), FiledByAgencyID: nullable(c.FiledByAgencyID),
		AccessCodeHash: c.AccessCodeHash, NextDueAt: nextDue(c.Deadlines),
		StateEnteredAt: c.StateEnteredAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	if c.IPPSU != nil {
		r.IPPSUNumber = &c.IPPSU.Number
		r.IPPSUDate = dateTime(&c.IPPSU.Date)
	}
	return r
}

// wideToRow fills the row's wide columns: the applicant's public details, the sealed personal
// data, the contacts and the checklist.
func (s *Cases) wideToRow(c *domain.Case, r *caseRow) {
	contacts, secrets := sealContacts(c.Contacts)
	personal, _ := json.Marshal(applicantPersonal{SNILS: c.Applicant.SNILS, Passport: c.Applicant.Passport, Address: c.Applicant.Address,
		Phone: c.Applicant.Phone, Contacts: secrets})
	r.Applicant = mustJSON(applicantPublic{c.Applicant.BirthDate, c.Applicant.Gender, c.Applicant.DisabilityGroup})
	r.Personal = s.sealer.Seal(personal)
	r.Contacts = mustJSON(contacts)
	r.Checklist = string(domain.AppendJSONChecklist(make([]byte, 0, 2048), c.Checklist))
}

// wideSnapshot is what a case's wide columns hold, taken before a command, so that a command
// that changes none of them does not write them again (updateCaseSQL).
type wideSnapshot struct {
	applicant domain.Applicant
	contacts  []domain.Contact
	checklist domain.Checklist
	codeHash  string
}

// snapshotWide copies the wide columns of a case a command is about to change.
func snapshotWide(c *domain.Case) wideSnapshot {
	return wideSnapshot{applicant: c.Applicant, contacts: slices.Clone(c.Contacts), checklist: cloneChecklist(c.Checklist),
		codeHash: c.AccessCodeHash}
}

// wideOf is the wide columns of a case nobody changes (a cached one): shared, not copied.
func wideOf(c *domain.Case) wideSnapshot {
	return wideSnapshot{applicant: c.Applicant, contacts: c.Contacts, checklist: c.Checklist, codeHash: c.AccessCodeHash}
}

// same reports whether the case's wide columns would be written as they were.
func (w *wideSnapshot) same(c *domain.Case) bool {
	if c.Applicant != w.applicant || !slices.Equal(c.Contacts, w.contacts) || len(c.Checklist) != len(w.checklist) ||
		c.AccessCodeHash != w.codeHash {
		return false
	}
	for i, d := range c.Checklist {
		was := w.checklist[i]
		if !sameDate(d.IssuedOn, was.IssuedOn) || !sameDate(d.ValidUntil, was.ValidUntil) {
			return false
		}
		d.IssuedOn, d.ValidUntil, was.IssuedOn, was.ValidUntil = nil, nil, nil, nil
		if d != was {
			return false
		}
	}
	return true
}

func sameDate(a, b *domain.Date) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func (s *Cases) fromRow(r caseRow) (*domain.Case, error) {
	c := &domain.Case{
		ID: r.ID, Number: r.Number, State: domain.State(r.State), Version: r.Version, Channel: domain.Channel(r.Channel),
		FacilityType: domain.FacilityType(r.FacilityType), HealthOrgID: deref(r.HealthOrgID), GuardianshipID: deref(r.GuardianshipID),
		FacilityID: deref(r.FacilityID), VoucherFacilityID: deref(r.VoucherFacilityID), VoucherValidUntil: timeDate(r.VoucherValidUntil),
		LeaveReturnBy: timeDate(r.LeaveReturnBy), AssigneeID: deref(r.AssigneeID), FiledByAgencyID: deref(r.FiledByAgencyID),
		AccessCodeHash: r.AccessCodeHash,
		StateEnteredAt: r.StateEnteredAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	var pub applicantPublic
	if err := json.Unmarshal([]byte(r.Applicant), &pub); err != nil {
		return nil, fmt.Errorf("case %s applicant: %w", r.ID, err)
	}
	plain, err := s.sealer.Open(r.Personal)
	if err != nil {
		return nil, fmt.Errorf("case %s personal data: %w", r.ID, err)
	}
	var per applicantPersonal
	if err := json.Unmarshal(plain, &per); err != nil {
		return nil, fmt.Errorf("case %s personal data: %w", r.ID, err)
	}
	c.Applicant = domain.Applicant{FullName: r.ApplicantName, BirthDate: pub.BirthDate, Gender: pub.Gender, SNILS: per.SNILS,
		Passport: per.Passport, Address: per.Address, Phone: per.Phone, LegalCapacity: domain.LegalCapacity(r.LegalCapacity), DisabilityGroup: pub.DisabilityGroup}
	if err := json.Unmarshal([]byte(r.Contacts), &c.Contacts); err != nil {
		return nil, fmt.Errorf("case %s contacts: %w", r.ID, err)
	}
	openContacts(c.Contacts, per.Contacts)
	// The checklist is the largest part of the row: decodeChecklist gives what json.Unmarshal
	// gives at a fraction of its cost.
	cl, err := decodeChecklist([]byte(r.Checklist))
	if err != nil {
		return nil, fmt.Errorf("case %s checklist: %w", r.ID, err)
	}
	c.Checklist = cl
	if r.IPPSUNumber != nil && r.IPPSUDate != nil {
		c.IPPSU = &domain.IPPSU{Number: *r.IPPSUNumber, Date: *timeDate(r.IPPSUDate)}
	}
	return c, nil
}

func nextDue(ds []domain.Deadline) *time.Time {
	var min *time.Time
	for i := range ds {
		if ds[i].State == domain.DeadlineOpen && (min == nil || ds[i].DueAt.Before(*min)) {
			t := ds[i].DueAt
			min = &t
		}
	}
	return min
}

func deadlineToRow(caseID string, d domain.Deadline) deadlineRow {
	return deadlineRow{CaseID: caseID, Kind: string(d.Kind), Ref: d.Ref, OpenedAt: d.OpenedAt, DueOn: d.DueOn.Time(),
		DueAt: d.DueAt, State: string(d.State), ClosedAt: d.ClosedAt, RemindAt: domain.FirstReminder(d)}
}

func historyToRow(caseID string, h domain.HistoryEntry) historyRow {
	payload := h.Payload
	if payload == nil {
		payload = map[string]any{}
	}
	// Postgres keeps microseconds: the hash is taken over the time as it will be read back.
	return historyRow{CaseID: caseID, Version: h.Version, Event: h.Event, FromState: string(h.From), ToState: string(h.To),
		ActorID: h.ActorID, ActorName: h.ActorName, ActorRole: h.ActorRole, Comment: h.Comment, Payload: mustJSON(payload),
		At: h.At.UTC().Truncate(time.Microsecond)}
}

// Create implements domain.CaseStore: the case row, then its first change, in one transaction.
func (s *Cases) Create(ctx context.Context, c *domain.Case, ch *domain.Change) error {
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		year := c.CreatedAt.In(domain.Moscow).Year()
		var last int
		err := tx.Raw(`INSERT INTO case_numbers (year, last) VALUES (?, 1)
			ON CONFLICT (year) DO UPDATE SET last = case_numbers.last + 1 RETURNING last`, year).Scan(&last).Error
		if err != nil {
			return fmt.Errorf("next case number: %w", err)
		}
		c.Number = fmt.Sprintf("KC-%d-%06d", year, last)
		row := s.toRow(c)
		if err := tx.Create(&row).Error; err != nil {
			return translate(err, "case")
		}
		if err := s.indexPhones(tx, c); err != nil {
			return err
		}
		if _, err := s.writeChange(ctx, sqlQuerier{sqlTx(tx)}, c, ch, chainHeads{}, false, false, 0, nil); err != nil {
			return err
		}
		return s.afterSave(ctx, tx, c, ch)
	})
	if err == nil && len(ch.Notices) > 0 {
		s.db.bell.Ring()
	}
	return err
}

// sqlTx is the database/sql transaction under a gorm transaction.
func sqlTx(tx *gorm.DB) execQuerier { return tx.Statement.ConnPool.(execQuerier) }

func (s *Cases) afterSave(ctx context.Context, tx *gorm.DB, c *domain.Case, ch *domain.Change) error {
	if s.AfterSave != nil {
		return s.AfterSave(ctx, tx, c, ch)
	}
	return nil
}

// Get implements domain.CaseStore.
func (s *Cases) Get(ctx context.Context, id string) (*domain.Case, error) {
	c, _, err := s.load(ctx, pgxPool{s.db}, id, false)
	if err != nil {
		return nil, err
	}
	if c.State == domain.WaitingList {
		if c.WaitingPosition, err = waitingPosition(ctx, s.db.SQL, c.ID); err != nil {
			return nil, err
		}
	}
	return c, nil
}

type openDeadlineJSON struct {
	ID       int64     `json:"id"`
	Kind     string    `json:"kind"`
	Ref      string    `json:"ref"`
	OpenedAt time.Time `json:"opened_at"`
	DueOn    string    `json:"due_on"`
	DueAt    time.Time `json:"due_at"`
}

// caseSelect reads a case row with its open deadlines as JSON in one round trip; with
// chains, also the heads of its history and access chains (for a command).
const caseSelect = `SELECT c.id::text, c.seq, c.number, c.state::text, c.version, c.channel::text, c.facility_type::text,
	c.applicant_name, c.legal_capacity::text, c.applicant::text, c.personal, c.contacts::text, c.health_org_id::text,
	c.guardianship_id::text, c.facility_id::text, c.voucher_facility_id::text, c.voucher_valid_until, c.leave_return_by,
	c.ippsu_number, c.ippsu_date, c.assignee_id::text, c.filed_by_agency_id::text, c.checklist::text,
	c.access_code_hash, c.next_due_at, c.state_entered_at, c.created_at, c.updated_at,
	(SELECT coalesce(json_agg(json_build_object('id', d.id, 'kind', d.kind, 'ref', d.ref, 'opened_at', d.opened_at,
		'due_on', d.due_on, 'due_at', d.due_at) ORDER BY d.due_at, d.id), '[]')
	 FROM deadlines d WHERE d.case_id = c.id AND d.state = 'open')::text`

var (
	caseByID       = caseSelect + "\nFROM cases c WHERE c.id = $1"
	caseWithChains = caseSelect + `,
	(SELECT hash FROM case_history h WHERE h.case_id = c.id AND h.version = c.version), a.seq, a.hash
FROM cases c LEFT JOIN LATERAL (SELECT seq, hash FROM access_log l WHERE l.case_id = c.id ORDER BY seq DESC LIMIT 1) a ON true
WHERE c.id = $1`
)

// load reads a case (ENOTFOUND when there is none) and, with chains, the heads of its chains.
func (s *Cases) load(ctx context.Context, db querier, id string, chains bool) (*domain.Case, chainHeads, error) {
	var (
		r         caseRow
		deadlines string
		heads     chainHeads
		hHash     sql.NullString
		aSeq      sql.NullInt64
		aHash     sql.NullString
	)
	dest := []any{&r.ID, &r.Seq, &r.Number, &r.State, &r.Version, &r.Channel, &r.FacilityType, &r.ApplicantName, &r.LegalCapacity,
		&r.Applicant, &r.Personal, &r.Contacts, &r.HealthOrgID, &r.GuardianshipID, &r.FacilityID, &r.VoucherFacilityID,
		&r.VoucherValidUntil, &r.LeaveReturnBy, &r.IPPSUNumber, &r.IPPSUDate, &r.AssigneeID, &r.FiledByAgencyID, &r.Checklist,
		&r.AccessCodeHash, &r.NextDueAt, &r.StateEnteredAt, &r.CreatedAt, &r.UpdatedAt, &deadlines}
	query := caseByID
	if chains {
		query = caseWithChains
		dest = append(dest, &hHash, &aSeq, &aHash)
	}
	err := db.queryRow(ctx, dest, query, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, heads, domain.Errorf(domain.ENOTFOUND, "case %s not found", id)
	}
	if err != nil {
		return nil, heads, fmt.Errorf("load case %s: %w", id, err)
	}
	heads = chainHeads{historyHash: hHash.String, accessSeq: int(aSeq.Int64), accessHash: aHash.String, oldSeal: !s.sealer.Current(r.Personal)}
	c, err := s.fromRow(r)
	if err != nil {
		return nil, heads, err
	}
	var ds []openDeadlineJSON
	if err := json.Unmarshal([]byte(deadlines), &ds); err != nil {
		return nil, heads, fmt.Errorf("load deadlines of case %s: %w", id, err)
	}
	c.Deadlines = make([]domain.Deadline, len(ds))
	for i, d := range ds {
		due, err := domain.ParseDate(d.DueOn)
		if err != nil {
			return nil, heads, fmt.Errorf("load deadlines of case %s: %w", id, err)
		}
		c.Deadlines[i] = domain.Deadline{ID: d.ID, Kind: domain.DeadlineKind(d.Kind), Ref: d.Ref, OpenedAt: d.OpenedAt.Local(),
			DueOn: due, DueAt: d.DueAt.Local(), State: domain.DeadlineOpen}
	}
	return c, heads, nil
}

// Update implements domain.CaseStore. A version of 0 takes whatever version is current and
// retries a few times if another command commits first. When a read of the case extended its
// access chain meanwhile (errChainMoved), the command runs again holding the chain's lock from
// the start, so that busy readers cannot keep it from ever landing. A command with a version
// first tries the case as this process wrote it (caseCache), and runs again from a fresh read
// when that is no longer current (errCacheStale).
func (s *Cases) Update(ctx context.Context, id string, version int, fn func(ctx context.Context, tx domain.CaseTx, c *domain.Case) (*domain.Change, error)) (*domain.Case, error) {
	stale, lockChain, cached := 0, false, version != 0
	for {
		c, err := s.update(ctx, id, version, lockChain, cached, fn)
		switch {
		case err == nil:
			return c, nil
		case errors.Is(err, errCacheStale):
			cached = false
			continue
		case errors.Is(err, errChainMoved) && !lockChain:
			lockChain, cached = true, false
			continue
		case domain.ErrorCode(err) == domain.ESTALE && version == 0 && stale < 4:
			stale++
			continue
		case errors.Is(err, errChainMoved):
			return nil, fmt.Errorf("case %s: %w", id, err)
		}
		return nil, err
	}
}

// update runs one command: read the case (no transaction), let fn decide, write the change
// with one statement under the version read. When fn reserves or releases a bed, that and the
// statement share a transaction (lazyTx); otherwise the statement is atomic on its own. With
// lockChain the transaction begins first and takes the case's access-chain lock before the read.
func (s *Cases) update(ctx context.Context, id string, version int, lockChain, cached bool, fn func(ctx context.Context, tx domain.CaseTx, c *domain.Case) (*domain.Change, error)) (*domain.Case, error) {
	tx := &lazyTx{db: s.db, ctx: ctx}
	defer tx.rollback()
	var db querier = pgxPool{s.db}
	if lockChain {
		g, err := tx.begin()
		if err != nil {
			return nil, err
		}
		db = sqlQuerier{sqlTx(g)}
		if _, err := sqlTx(g).ExecContext(ctx, "SELECT "+accessLockOneSQL("$1"), id); err != nil {
			return nil, fmt.Errorf("lock the access chain of case %s: %w", id, err)
		}
	}
	var c *domain.Case
	var heads chainHeads
	var before wideSnapshot
	var cachedOpen []int64 // not nil: the command is decided on the cached case
	if cached && !lockChain {
		if c, heads, before, cached = s.db.recent.get(id, version); cached {
			cachedOpen = openDeadlineIDs(c)
		}
	}
	if c == nil {
		var err error
		if c, heads, err = s.load(ctx, db, id, true); err != nil {
			return nil, err
		}
		before = snapshotWide(c)
	}
	loaded := c.Version
	if version != 0 && loaded != version {
		return nil, staleVersion(c.Number, version, loaded)
	}
	ch, err := fn(ctx, tx, c)
	if err != nil {
		return nil, err
	}
	if ch == nil {
		return c, tx.commit()
	}
	if s.AfterSave != nil {
		if _, err := tx.begin(); err != nil {
			return nil, err
		}
	}
	if tx.tx != nil {
		db = sqlQuerier{sqlTx(tx.tx)}
	}
	after, err := s.writeChange(ctx, db, c, ch, heads, true, heads.oldSeal || !before.same(c), loaded, cachedOpen)
	if err != nil {
		if errors.Is(err, errCacheStale) || errors.Is(err, errChainMoved) {
			s.db.recent.drop(id)
		}
		return nil, err
	}
	if tx.tx != nil {
		if err := s.afterSave(ctx, tx.tx, c, ch); err != nil {
			return nil, err
		}
	}
	if err := tx.commit(); err != nil {
		s.db.recent.drop(id)
		return nil, err
	}
	s.db.recent.put(c, after)
	if after.accessSeq != heads.accessSeq { // the command wrote the actor's access line
		s.db.heads.set(id, after.accessSeq, after.accessHash)
	}
	if len(ch.Notices) > 0 {
		s.db.bell.Ring()
	}
	return c, nil
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

func staleVersion(number string, want, have int) error {
	if have == 0 {
		return domain.Errorf(domain.ESTALE, "case %s was changed by someone else meanwhile (version %d is no longer current)", number, want)
	}
	return domain.Errorf(domain.ESTALE, "case %s is at version %d, not %d: reload it and try again", number, have, want)
}

// lazyTx implements domain.CaseTx for one command: reads go to the pool, and the first
// write (a bed) begins the transaction the command's change then joins.
type lazyTx struct {
	db  *DB
	ctx context.Context
	tx  *gorm.DB
}

func (t *lazyTx) begin() (*gorm.DB, error) {
	if t.tx == nil {
		tx := t.db.Gorm.WithContext(t.ctx).Begin()
		if tx.Error != nil {
			return nil, fmt.Errorf("begin: %w", tx.Error)
		}
		t.tx = tx
	}
	return t.tx, nil
}

func (t *lazyTx) commit() error {
	if t.tx == nil {
		return nil
	}
	tx := t.tx
	t.tx = nil
	if err := tx.Commit().Error; err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (t *lazyTx) rollback() {
	if t.tx != nil {
		t.tx.Rollback()
		t.tx = nil
	}
}

type facilityRow struct {
	ID       string `gorm:"primaryKey"`
	Name     string
	Type     string
	Capacity int
	Taken    int
	AgencyID *string
}

func (facilityRow) TableName() string { return "facilities" }

func (f facilityRow) domain() domain.Facility {
	return domain.Facility{ID: f.ID, Name: f.Name, Type: domain.FacilityType(f.Type), Capacity: f.Capacity, Taken: f.Taken, AgencyID: deref(f.AgencyID)}
}

func (t *lazyTx) Facility(ctx context.Context, id string) (*domain.Facility, error) {
	db := t.tx
	if db == nil {
		db = t.db.Gorm.WithContext(ctx)
	}
	var f facilityRow
	if err := findOne(db.Where("id = ?", id), &f, "facility", id); err != nil {
		return nil, err
	}
	d := f.domain()
	return &d, nil
}

func (t *lazyTx) ReserveBed(ctx context.Context, facilityID string) error {
	tx, err := t.begin()
	if err != nil {
		return err
	}
	res := tx.Exec("UPDATE facilities SET taken = taken + 1 WHERE id = ? AND taken < capacity", facilityID)
	if res.Error != nil {
		return fmt.Errorf("reserve bed: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return &domain.Error{Code: domain.EUNPROCESSABLE, Message: "no free bed", Reasons: []string{"the facility has no free bed"}}
	}
	return nil
}

func (t *lazyTx) ReleaseBed(ctx context.Context, facilityID string) error {
	tx, err := t.begin()
	if err != nil {
		return err
	}
	res := tx.Exec("UPDATE facilities SET taken = taken - 1 WHERE id = ? AND taken > 0", facilityID)
	if res.Error != nil {
		return fmt.Errorf("release bed: %w", res.Error)
	}
	return nil
}

// Facilities implements domain.CaseStore.
func (s *Cases) Facilities(ctx context.Context) ([]domain.Facility, error) {
	var rows []facilityRow
	if err := s.db.Gorm.WithContext(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list facilities: %w", err)
	}
	out := make([]domain.Facility, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
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

type summaryRow struct {
	ID                string
	HealthOrgID       *string
	GuardianshipID    *string
	FiledByAgencyID   *string
	FacilityID        *string
	VoucherFacilityID *string

	Seq            int64
	Number         string
	State          string
	Version        int
	FacilityType   string
	Channel        string
	ApplicantName  string
	AssigneeID     *string
	StateEnteredAt time.Time
	CreatedAt      time.Time
	NextDueAt      *time.Time
}

// nameCap is how many matching name keys below the cursor make a name "common": its page is
// then found newest first in case_names rather than from the keys (see List).
var nameCap = 5000

// nameWindow is how many of the newest names a common prefix is looked for in, newest first,
// before the keys below them are read (case_names_newest in migration 00006).
var nameWindow int64 = 10000

// List implements domain.CaseStore: newest first by the insertion sequence, so a cursor stays
// stable while new cases arrive at the top.
//
// At a million cases the rows are wide (checklist JSON) and a filter the index cannot answer
// costs a page read per row it looks at. So the page's seqs are chosen first, by queries the
// covering indexes of migration 00005 answer on their own, and only the page's rows are read
// then, in the same statement (a materialized CTE of the seqs). The queries are unnamed
// statements, planned with their actual values each time: a cached generic plan cannot tell a
// rare state or name from a common one.
//
// A name search (q that is not a case number) matches the names having a word that starts with
// q, in the narrow tables of migration 00006, filled by triggers when a case is registered.
// No plan suits every name, so the search first counts, up to nameCap, the keys in q's prefix
// range of case_name_keys (an index-only range scan). A name with fewer matches (almost every
// full name and surname) is answered from those keys: the range, sorted. A common one ("иван",
// "мария") is looked for newest first among the newest nameWindow names, where it usually
// fills the page, and the rest of the page comes from the keys below them (a name common among
// old cases only): case_names_newest in migration 00006. The work is bounded by nameCap or by
// nameWindow and the prefix's keys, whatever the planner estimates.
func (s *Cases) List(ctx context.Context, f domain.CaseFilter) (domain.CasePage, error) {
	var before int64 // seqs below this one; 0 for the first page
	if f.Cursor != "" {
		seq, err := decodeCursor(f.Cursor)
		if err != nil {
			return domain.CasePage{}, err
		}
		before = seq
	}
	want := f.Limit + 1
	var rows []summaryRow
	var err error
	switch {
	case f.Q != "" && !strings.HasPrefix(strings.ToUpper(f.Q), "KC-"):
		rows, err = s.byName(ctx, f, before, want)
	case f.Overdue && f.State != "" && f.Q == "":
		rows, err = s.overdueInState(ctx, f, before, want)
	default:
		rows, _, err = s.summaries(ctx, s.listSeqs(f, before, want, nameNone, 0))
	}
	if err != nil {
		return domain.CasePage{}, err
	}
	page := domain.CasePage{Items: make([]domain.CaseSummary, 0, len(rows))}
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		page.NextCursor = encodeCursor(rows[len(rows)-1].Seq)
	}
	for _, r := range rows {
		page.Items = append(page.Items, domain.CaseSummary{ID: r.ID, Number: r.Number, State: domain.State(r.State), Version: r.Version,
			FacilityType: domain.FacilityType(r.FacilityType), Channel: domain.Channel(r.Channel), ApplicantName: r.ApplicantName,
			AssigneeID: deref(r.AssigneeID), StateEnteredAt: r.StateEnteredAt, CreatedAt: r.CreatedAt, NextDueAt: r.NextDueAt,
			Overdue:     r.NextDueAt != nil && !f.Now.Before(*r.NextDueAt),
			HealthOrgID: deref(r.HealthOrgID), GuardianshipID: deref(r.GuardianshipID), FiledByAgencyID: deref(r.FiledByAgencyID),
			FacilityID: deref(r.FacilityID), VoucherFacilityID: deref(r.VoucherFacilityID)})
	}
	return page, nil
}

// dueCap is how many overdue cases a state may have below the page for its overdue list to
// be read from them (cases_state_due, migration 00009) rather than by the newest-first scan of
// the state's cases, which finds a page at once where many are overdue but walks the whole
// state where few are (a variable for tests).
var dueCap = 2000

// overdueInState returns up to n rows of the overdue cases of f.State (and the other filters)
// below before, newest first.
func (s *Cases) overdueInState(ctx context.Context, f domain.CaseFilter, before int64, n int) ([]summaryRow, error) {
	below := before
	if below == 0 {
		below = math.MaxInt64
	}
	var due int
	err := s.db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM cases
		WHERE state = $1 AND next_due_at <= $2 AND seq < $3 LIMIT $4) m`, pgx.QueryExecModeExec, string(f.State), f.Now, below, dueCap+1).Scan(&due)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	q := s.listSeqs(f, before, n, nameNone, 0)
	if due <= dueCap {
		q = s.listSeqs(f, before, n, dueFew, 0)
	}
	rows, _, err := s.summaries(ctx, q)
	return rows, err
}

// nameMode is how listSeqs applies a name search.
type nameMode int

const (
	nameNone   nameMode = iota
	nameByKeys          // the cases among the (at most nameCap) keys in q's prefix range
	nameByScan          // a window of the newest cases, joined with case_names
	// dueFew is no name search: the filter's overdue cases of its state are read whole (at
	// most dueCap of them, from cases_state_due), then sorted
	dueFew
)

// nameScanMatch is the name condition of a newest-first scan of case_names n. case_name_prefix
// (migration 00006) normalizes q as the names are and escapes it for LIKE; the second LIKE
// finds q at the start of a later word.
const nameScanMatch = "(n.name LIKE case_name_prefix(?) OR n.name LIKE '% ' || case_name_prefix(?))"

// seqQuery is a query of up to n seqs, newest first; counted ones return a count before the seq.
type seqQuery struct {
	sql     string
	args    []any
	counted bool
}

// byName returns up to n rows of the cases whose name matches f.Q (and the other filters)
// below before, newest first.
func (s *Cases) byName(ctx context.Context, f domain.CaseFilter, before int64, n int) ([]summaryRow, error) {
	below := before
	if below == 0 {
		below = math.MaxInt64
	}
	filtered := f.State != "" || f.FacilityType != "" || f.Assignee != "" || f.Overdue || f.Party != nil
	if filtered {
		var keys int
		err := s.db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM case_name_keys
			WHERE key LIKE case_name_prefix($1) AND seq < $2 LIMIT $3) m`, pgx.QueryExecModeExec, f.Q, below, nameCap+1).Scan(&keys)
		if err != nil {
			return nil, fmt.Errorf("list cases: %w", err)
		}
		if keys <= nameCap {
			rows, _, err := s.summaries(ctx, s.listSeqs(f, before, n, nameByKeys, 0))
			return rows, err
		}
		// A common prefix: the newest nameWindow cases joined with their names (bounded
		// whatever the join), then the filter over the prefix's keys below them.
		low := before
		if low == 0 {
			if err := s.db.SQL.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) + 1 FROM case_names").Scan(&low); err != nil {
				return nil, fmt.Errorf("list cases: %w", err)
			}
		}
		low -= nameWindow
		rows, _, err := s.summaries(ctx, s.listSeqs(f, before, n, nameByScan, low))
		if err != nil || len(rows) >= n || low <= 1 {
			return rows, err
		}
		older, _, err := s.summaries(ctx, s.listSeqs(f, low, n-len(rows), nameByKeys, 0))
		return append(rows, older...), err
	}
	// The name alone: the page from the keys in range and their count in one statement; a
	// common name (the count reached the cap) is then read newest first.
	rows, keys, err := s.summaries(ctx, seqQuery{sql: `WITH m AS MATERIALIZED (
			SELECT seq FROM case_name_keys WHERE key LIKE case_name_prefix($1) AND seq < $2 LIMIT $3)
		SELECT (SELECT count(*) FROM m), seq FROM (SELECT DISTINCT seq FROM m) d ORDER BY seq DESC LIMIT $4`,
		args: []any{f.Q, below, nameCap + 1, n}, counted: true})
	if err != nil || keys <= nameCap {
		return rows, err
	}
	rows, _, err = s.summaries(ctx, seqQuery{sql: `SELECT seq FROM case_names_newest($1, $2, $3, $4) AS t(seq)`, args: []any{f.Q, below, n, nameWindow}})
	return rows, err
}

// listSeqs is the query of up to n seqs of the cases the filter selects below before (when not
// 0), newest first. It is built by gorm, so the filters and the party rule (partyWhere) are
// written once.
func (s *Cases) listSeqs(f domain.CaseFilter, before int64, n int, name nameMode, atLeast int64) seqQuery {
	filters := func() *gorm.DB {
		q := s.db.Gorm.Session(&gorm.Session{DryRun: true, NewDB: true}).Table("cases c")
		if f.State != "" {
			q = q.Where("state = ?", string(f.State))
		}
		if f.FacilityType != "" {
			q = q.Where("facility_type = ?", string(f.FacilityType))
		}
		if f.Assignee != "" {
			q = q.Where("assignee_id = ?", f.Assignee)
		}
		if f.Overdue {
			q = q.Where("next_due_at <= ?", f.Now)
		}
		if f.Party != nil {
			q = partyWhere(q, *f.Party)
		}
		if len(f.CaseIDs) > 0 {
			q = q.Where("c.id = ANY (?::uuid[])", uuidArray(f.CaseIDs))
		}
		if before > 0 {
			q = q.Where("c.seq < ?", before)
		}
		return q
	}
	q := filters().Select("c.seq")
	switch {
	case name == nameByKeys:
		// the prefix's keys below before (at most nameCap of them, or the older part of a
		// common prefix) as a semi-join; not "= ANY (ARRAY(…))", which a scan of the filter's
		// index checks by reading the whole array for every entry
		below := before
		if below == 0 {
			below = math.MaxInt64
		}
		q = q.Where("c.seq IN (SELECT seq FROM case_name_keys WHERE key LIKE case_name_prefix(?) AND seq < ?)", f.Q, below)
	case name == nameByScan:
		// the cases from atLeast on, joined with their names: both sides bounded
		q = q.Joins("JOIN case_names n ON n.seq = c.seq").Where(nameScanMatch, f.Q, f.Q).
			Where("c.seq >= ? AND n.seq >= ?", atLeast, atLeast)
	case f.Q != "":
		q = q.Where("number = ?", strings.ToUpper(f.Q))
	}
	if name == dueFew {
		// OFFSET 0 keeps the order and the limit out of the inner query, so that it is planned
		// as "all of them" (by cases_state_due), not as "the newest first until n".
		stmt := q.Find(&[]int64{}).Statement
		return seqQuery{sql: fmt.Sprintf("SELECT seq FROM (%s OFFSET 0) d ORDER BY seq DESC LIMIT %d", stmt.SQL.String(), n), args: stmt.Vars}
	}
	stmt := q.Order("c.seq DESC").Limit(n).Find(&[]int64{}).Statement
	return seqQuery{sql: stmt.SQL.String(), args: stmt.Vars}
}

// summaries reads the list rows of the seqs the query selects, newest first, in one unnamed
// statement (planned with its values); for a counted query also the count.
func (s *Cases) summaries(ctx context.Context, q seqQuery) ([]summaryRow, int, error) {
	count := "0"
	if q.counted {
		count = "(SELECT max(count) FROM s)"
	}
	rows, err := s.db.SQL.QueryContext(ctx, `WITH s AS MATERIALIZED (`+q.sql+`)
		SELECT `+count+`, id, seq, number, state, version, facility_type, channel, applicant_name,
			assignee_id, state_entered_at, created_at, next_due_at,
			health_org_id, guardianship_id, filed_by_agency_id, facility_id, voucher_facility_id
		FROM cases WHERE seq = ANY (ARRAY(SELECT seq FROM s)) ORDER BY seq DESC`, append([]any{pgx.QueryExecModeExec}, q.args...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list cases: %w", err)
	}
	defer rows.Close()
	var out []summaryRow
	n := 0
	for rows.Next() {
		var r summaryRow
		if err := rows.Scan(&n, &r.ID, &r.Seq, &r.Number, &r.State, &r.Version, &r.FacilityType, &r.Channel, &r.ApplicantName,
			&r.AssigneeID, &r.StateEnteredAt, &r.CreatedAt, &r.NextDueAt,
			&r.HealthOrgID, &r.GuardianshipID, &r.FiledByAgencyID, &r.FacilityID, &r.VoucherFacilityID); err != nil {
			return nil, 0, fmt.Errorf("list cases: %w", err)
		}
		out = append(out, r)
	}
	return out, n, rows.Err()
}

func encodeCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("s" + strconv.FormatInt(seq, 10)))
}

func decodeCursor(c string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil && len(b) > 1 && b[0] == 's' {
		if seq, err := strconv.ParseInt(string(b[1:]), 10, 64); err == nil && seq > 0 {
			return seq, nil
		}
	}
	return 0, domain.Invalid("cursor", "is not a cursor this server gave out")
}

// PostgreSQL's codes of the constraint violations translate knows.
const (
	pgForeignKey = "23503"
	pgUnique     = "23505"
	pgCheck      = "23514"
)

// isPgError reports whether err is a PostgreSQL error with this code.
func isPgError(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// translate turns constraint violations into domain errors a caller can act on.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case pgForeignKey:
			return domain.Errorf(domain.EUNPROCESSABLE, "%s refers to something that does not exist (%s)", what, pgErr.ConstraintName)
		case pgUnique:
			return domain.Errorf(domain.ECONFLICT, "%s already exists (%s)", what, pgErr.ConstraintName)
		case pgCheck:
			return domain.Errorf(domain.EINVALID, "%s breaks rule %s", what, pgErr.ConstraintName)
		}
	}
	return fmt.Errorf("save %s: %w", what, err)
}
