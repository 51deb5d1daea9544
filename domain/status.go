package domain

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"
)

// StatusView is what a relative learns with a case number and an access code: where the case
// stands and what comes next. No diagnosis, no medical contents, no type of home, no other
// person's data.
type StatusView struct {
	CaseNumber       string   `json:"case_number"`
	StateLabel       string   `json:"state_label"`
	Stage            int      `json:"stage"`
	StageCount       int      `json:"stage_count"`
	StateEnteredOn   Date     `json:"state_entered_on"`
	NextStep         string   `json:"next_step,omitempty"`
	NextStepBy       *Date    `json:"next_step_by,omitempty"`
	MissingDocuments []string `json:"missing_documents"`
	WaitingPosition  int      `json:"waiting_position,omitempty"`
	// Waiting is the waiting part: the place, the list's length and the wait estimate (wait.go).
	Waiting     *WaitingStatus `json:"waiting,omitempty"`
	CenterPhone string         `json:"center_phone"`
	// MissingWhere says, for each missing document in the same order, where to get it.
	MissingWhere []MissingDocument `json:"missing_where"`
	// Timeline is the stages passed, oldest first, with the day each began.
	Timeline []TimelineStep `json:"timeline"`
	// VoucherHome is the home a voucher is for, while the voucher is open.
	VoucherHome string `json:"voucher_home,omitempty"`
}

// MissingDocument is a missing document and where to get it.
type MissingDocument struct {
	Document string `json:"document"`
	Where    string `json:"where"`
}

// TimelineStep is one stage a case passed and the day it began.
type TimelineStep struct {
	Label string `json:"label"`
	On    Date   `json:"on"`
}

// StatusStep is one change of state from the history, as the lookup reads it.
type StatusStep struct {
	State State
	On    Date
}

// nextStep says, per state, what happens next in words a family understands, and which deadline
// tells by when.
type nextStep struct {
	text string
	by   DeadlineKind
}

var nextSteps = map[State]nextStep{
	Intake:              {"Специалист центра проверит заявление и сообщит, какие документы нужны", ""},
	CollectingDocuments: {"Представить недостающие документы", DeadlineDocumentCollection},
	UnderReview:         {"Решение о признании нуждающимся в социальном обслуживании", DeadlineReviewDecision},
	Rejected:            {"Отказ можно обжаловать: позвоните в центр, специалист объяснит порядок", ""},
	WaitingList:         {"Ожидание путёвки: очередь продвигается по мере освобождения мест", ""},
	VoucherIssued:       {"Заселение в учреждение по путёвке", DeadlineVoucherAdmission},
	Residing:            {"Проживание в учреждении", ""},
	OnLeave:             {"Возвращение в учреждение после временного выбытия", DeadlineLeaveReturn},
	Hospitalized:        {"Возвращение в учреждение после госпитализации", ""},
	TransferPending:     {"Перевод в другое учреждение: ожидание путёвки", ""},
	Discharged: {"Проживание в учреждении завершено, дело закрыто. Если остались вопросы о документах " +
		"или о дальнейшем устройстве, позвоните в координационный центр: специалист поможет", ""},
	Deceased: {"Примите наши искренние соболезнования. Дело закрыто. О документах и личных вещах " +
		"можно узнать в учреждении или в координационном центре: позвоните, специалист подскажет, что делать дальше", ""},
	Withdrawn: {"Заявление отозвано, дело закрыто. Если понадобится подать заявление снова, позвоните в координационный центр", ""},
}

// publicDocLabel names a document for a relative; a name that would tell the type of home
// (medical secrecy) is replaced by a neutral one.
func publicDocLabel(t DocType) string {
	if t == DocPsychiatricCommission {
		return "Заключение врачебной комиссии"
	}
	return docIndex[t].Label
}

// StatusCase is what the store reads for one lookup, in one round trip: the case (when the
// number exists) and the failure counters of its StatusKeys.
type StatusCase struct {
	Found          bool
	ID             string
	Number         string
	State          State
	StateEnteredAt time.Time
	AccessCodeHash string
	// Checklist decodes the checklist; the lookup asks for it only when it shows missing
	// documents, and only after the code matched.
	Checklist func() (Checklist, error)
	// NextDue is the due date of the case's earliest open deadline of the kind the plan names
	// for its state (NextDueKinds); nil in other states or when none is open.
	NextDue *Date
	// Sex is the applicant's ("female", "male"), read in the plan's SexStates only.
	Sex string
	// Steps are the case's changes of state, oldest first; VoucherHome the name of the home of
	// an open voucher (in the plan's VoucherStates only).
	Steps       []StatusStep
	VoucherHome string
	// The counters of the lookup's StatusKeys.
	ByCase, ByClient, ByAddress StatusCounter
}

// StatusPlan tells the store what one lookup reads besides the case row, in the same round
// trip: the checklist only in the states that show missing documents, the next step's due date
// only in the states whose next step has one. Built once from the tables of this file.
type StatusPlan struct {
	// ChecklistStates are the states in which the checklist is read.
	ChecklistStates []string
	// NextDueKinds maps a state to the kind of deadline whose earliest open due date is read
	// in it (StatusCase.NextDue).
	NextDueKinds map[string]string
	// SexStates are the states whose wording agrees with the applicant's sex («выбыла»), in
	// which the applicant's sex is read (StatusCase.Sex).
	SexStates []string
	// VoucherStates are the states in which the voucher's home is named.
	VoucherStates []string
}

var statusPlan = func() *StatusPlan {
	p := &StatusPlan{NextDueKinds: map[string]string{}, VoucherStates: []string{string(VoucherIssued)}}
	for _, st := range missingShownIn {
		p.ChecklistStates = append(p.ChecklistStates, string(st))
	}
	for st, ns := range nextSteps {
		if ns.by != "" {
			p.NextDueKinds[string(st)] = string(ns.by)
		}
	}
	for _, st := range States {
		if w := relativeWordings[st.Name]; w.title[0] != w.title[1] {
			p.SexStates = append(p.SexStates, string(st.Name))
		}
	}
	return p
}()

// StatusCounter is the failures of one key in its current window.
type StatusCounter struct {
	Failures    int
	WindowStart time.Time
}

// StatusStore serves the relatives' lookup.
type StatusStore interface {
	// StatusCase reads the case with this number (Found false when there is none) and the
	// counters of the keys; the checklist and the next step's due date as the plan says.
	StatusCase(ctx context.Context, number string, keys StatusKeys, plan *StatusPlan) (*StatusCase, error)
	// WaitingFigures returns the waiting case's figures for its place (1 = next) and estimate
	// (wait.go), from a snapshot a few seconds old: no query of its own per lookup.
	WaitingFigures(ctx context.Context, caseID string) (SegmentFigures, error)
	// RecordFailure counts one failed lookup for each key, starting a new window for a key whose
	// window has ended.
	RecordFailure(ctx context.Context, keys []string, now time.Time, window time.Duration) error
	// ClearFailures forgets the failures of a key (a correct lookup clears its client's).
	ClearFailures(ctx context.Context, key string) error
	CaseLockouts
}

// CaseLockouts forgets the failed lookups counted against a case.
type CaseLockouts interface {
	// ClearCase forgets every failure counted against a case (CaseLockKeys): a new access code
	// was issued.
	ClearCase(ctx context.Context, number string) error
}

// missingShownIn are the states in which a relative is told which documents are missing: on the
// way to admission, while documents can still hold it up.
var missingShownIn = slices.DeleteFunc(slices.Clone(preAdmission), func(s State) bool { return s == Rejected })

// A lookup of a number that does not exist still hashes and compares, against these, so that
// a wrong number and a wrong code cost the same.
const dummyCaseID = "00000000-0000-4000-8000-000000000000"

var dummyHash = HashAccessCode(dummyCaseID, "DUMMY-NEVER-MATCHES")

// errStatusNotFound is the one answer for a wrong number and a wrong code alike.
func errStatusNotFound(phone string) error {
	return Errorf(ENOTFOUND, "no case matches this number and access code; the center's phone is %s", phone)
}

// AddressKey groups client addresses for the lockout: one IPv4 address, or one IPv6 /64 (what a
// single customer usually holds).
func AddressKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return "a:" + addr
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return "a:" + p.String()
	}
	return "a:" + ip.String()
}

// The lockout (issue 16). A stranger who guesses codes for a case must never lock its family
// out, and guessing must stay hopeless:
//   - failures are counted per (case, client): after StatusMaxPerClient of them a client waits
//     StatusWindow, and then twice as long after each further failure (back-off from the first
//     failure, remembered StatusClientMemory); the family, at another address, is not affected;
//   - per client across cases (StatusMaxPerAddress in StatusWindow), so one address cannot walk
//     the sequential numbers;
//   - per case from everywhere, a ceiling (StatusMaxPerNumber in StatusWindow) far above what a
//     family ever reaches, which bounds guessing by many addresses at once: with the defaults,
//     500 guesses per 15 minutes is at most 500 × 96 × 365 ≈ 1.8·10^7 a year against 31^12 ≈
//     7.9·10^17 codes, a chance below 2.3·10^-11 a year of finding one case's code. Only an
//     attack from hundreds of addresses reaches it, and then a new code issued by the center
//     (RotateAccessCode) clears the case's counters at once.
// A lookup of a number that does not exist is counted under the same keys, so the answers do
// not tell which numbers exist.

// StatusKeys are the counters one lookup reads: the case's ceiling, the (case, client) pair's
// and the client's.
type StatusKeys struct{ Case, Client, Address string }

func statusKeys(number, clientAddr string) StatusKeys {
	a := AddressKey(clientAddr)
	return StatusKeys{Case: "n:" + number, Client: "p:" + number + "|" + a, Address: a}
}

// CaseLockKeys are the keys whose counters belong to a case: its ceiling, and the prefix of its
// (case, client) pairs. A new access code clears them.
func CaseLockKeys(number string) (ceiling, clientPrefix string) {
	return "n:" + number, "p:" + number + "|"
}

// lockedFor returns how many seconds a counter still locks out (0: it does not): from its
// window's start, window after max failures, doubling with each failure beyond max.
func lockedFor(c StatusCounter, max int, window time.Duration, now time.Time) int {
	if max <= 0 || c.Failures < max {
		return 0
	}
	until := c.WindowStart.Add(window << min(c.Failures-max, 16))
	if !now.Before(until) {
		return 0
	}
	return int(math.Ceil(until.Sub(now).Seconds()))
}

// Status answers a relative's lookup. A wrong number and a wrong code give the same ENOTFOUND
// after the same work; a locked-out lookup (see above) is ERATELIMIT with the seconds to wait,
// whatever the code. Both name the center's phone.
func (s *Access) Status(ctx context.Context, number, code, clientAddr string) (*StatusView, error) {
	v, err := s.status(ctx, number, code, clientAddr)
	if s.Tally != nil {
		var e *Error
		switch {
		case err == nil:
			s.Tally.CountLookup(DateOf(s.now()), LookupAnswered)
		case errors.As(err, &e) && e.Code == ERATELIMIT:
			s.Tally.CountLookup(DateOf(s.now()), LookupLocked)
		case errors.As(err, &e) && (e.Code == ENOTFOUND || e.Code == EINVALID):
			s.Tally.CountLookup(DateOf(s.now()), LookupRefused)
		}
	}
	return v, err
}

func (s *Access) status(ctx context.Context, number, code, clientAddr string) (*StatusView, error) {
	now := s.now()
	number, ok := ParseCaseNumber(number)
	if !ok {
		return nil, Invalid("case_number", "must look like KC-2025-000123")
	}
	keys := statusKeys(number, clientAddr)
	rec, err := s.Lookups.StatusCase(ctx, number, keys, statusPlan)
	if err != nil {
		return nil, fmt.Errorf("status lookup: %w", err)
	}
	set := s.Settings
	wait := max(lockedFor(rec.ByClient, set.StatusMaxPerClient, set.StatusWindow, now),
		lockedFor(rec.ByAddress, set.StatusMaxPerAddress, set.StatusWindow, now),
		lockedFor(rec.ByCase, set.StatusMaxPerNumber, set.StatusWindow, now))
	if wait > 0 {
		e := Errorf(ERATELIMIT, "too many failed lookups; try again later or call the center at %s", set.CenterPhone)
		e.RetryAfterSeconds = wait
		return nil, e
	}
	id, hash := dummyCaseID, dummyHash
	if rec.Found {
		id, hash = rec.ID, rec.AccessCodeHash
	}
	if !AccessCodeMatches(hash, id, code) || !rec.Found {
		if err := s.Lookups.RecordFailure(ctx, []string{keys.Case, keys.Address}, now, set.StatusWindow); err != nil {
			return nil, fmt.Errorf("status lookup: %w", err)
		}
		if err := s.Lookups.RecordFailure(ctx, []string{keys.Client}, now, set.StatusClientMemory); err != nil {
			return nil, fmt.Errorf("status lookup: %w", err)
		}
		return nil, errStatusNotFound(set.CenterPhone)
	}
	if rec.ByClient.Failures > 0 {
		// The right code clears this client's failures on the case (not the case's ceiling:
		// that would hand the guessers a fresh budget).
		if err := s.Lookups.ClearFailures(ctx, keys.Client); err != nil {
			return nil, fmt.Errorf("status lookup: %w", err)
		}
	}
	v := &StatusView{CaseNumber: rec.Number, StageCount: StageCount, StateEnteredOn: DateOf(rec.StateEnteredAt),
		MissingDocuments: []string{}, MissingWhere: []MissingDocument{}, CenterPhone: s.Settings.CenterPhone,
		Timeline: timeline(rec.Steps), VoucherHome: rec.VoucherHome}
	if st, ok := LookupState(rec.State); ok {
		v.StateLabel, v.Stage = RelativeStateLabel(rec.State, GenderOf(rec.Sex)), st.Stage
	}
	if ns, ok := nextSteps[rec.State]; ok {
		v.NextStep, v.NextStepBy = ns.text, rec.NextDue
	}
	if slices.Contains(missingShownIn, rec.State) {
		cl, err := rec.Checklist()
		if err != nil {
			return nil, fmt.Errorf("status lookup: %w", err)
		}
		for _, t := range cl.Missing(DateOf(now)) {
			v.MissingDocuments = append(v.MissingDocuments, publicDocLabel(t))
			v.MissingWhere = append(v.MissingWhere, MissingDocument{publicDocLabel(t), WhereToGet(t)})
		}
	}
	if onWaitingList(rec.State) { // a resident waiting for a transfer is on the list too
		fig, err := s.Lookups.WaitingFigures(ctx, rec.ID)
		if err != nil {
			return nil, fmt.Errorf("status lookup: %w", err)
		}
		v.WaitingPosition, v.Waiting = fig.Position, fig.Status()
	}
	return v, nil
}

// timeline turns the history's changes of state into the stages a relative sees: the day
// each stage began, a stage entered again (documents returned for) at its latest.
func timeline(steps []StatusStep) []TimelineStep {
	out := make([]TimelineStep, 0, len(steps))
	for _, st := range steps {
		def, ok := LookupState(st.State)
		if !ok {
			continue
		}
		// Past stages in the console's neutral words; a closed case's last one is named by the
		// view's state label.
		out = append(out, TimelineStep{Label: def.Label, On: st.On})
	}
	return out
}
