package domain

import (
	"context"
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
	CenterPhone      string   `json:"center_phone"`
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
// number exists) and the failure counters of the number and of the client address.
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
	Sex       string
	ByNumber  StatusCounter
	ByAddress StatusCounter
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
}

var statusPlan = func() *StatusPlan {
	p := &StatusPlan{NextDueKinds: map[string]string{}}
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
	// counters of the two keys; the checklist and the next step's due date as the plan says.
	StatusCase(ctx context.Context, number, numberKey, addressKey string, plan *StatusPlan) (*StatusCase, error)
	// WaitingPosition returns the case's place on the waiting list (1 = next); it may be a few
	// seconds old.
	WaitingPosition(ctx context.Context, caseID string) (int, error)
	// RecordFailure counts one failed lookup for each key, starting a new window for a key whose
	// window has ended.
	RecordFailure(ctx context.Context, keys []string, now time.Time, window time.Duration) error
	// ClearFailures forgets the failures of a key (a correct lookup clears its number's).
	ClearFailures(ctx context.Context, key string) error
}

// missingShownIn are the states in which a relative is told which documents are missing: on the
// way to admission, while documents can still hold it up.
var missingShownIn = slices.DeleteFunc(slices.Clone(preAdmission), func(s State) bool { return s == Rejected })

// A lookup of a number that does not exist still hashes and compares, against these, so that
// a wrong number and a wrong code cost the same.
const dummyCaseID = "00000000-0000-4000-8000-000000000000"

var dummyHash = HashAccessCode(dummyCaseID, "DUMMY-NEVER-MATCHES")

// ErrStatusNotFound is the one answer for a wrong number and a wrong code alike.
func errStatusNotFound() error {
	return Errorf(ENOTFOUND, "no case matches this number and access code")
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

func (s *Access) locked(c StatusCounter, max int, now time.Time) (bool, int) {
	if c.Failures < max {
		return false, 0
	}
	until := c.WindowStart.Add(s.Settings.StatusWindow)
	if !now.Before(until) {
		return false, 0
	}
	return true, int(math.Ceil(until.Sub(now).Seconds()))
}

// Status answers a relative's lookup. A wrong number and a wrong code give the same ENOTFOUND
// after the same work; after too many failures for the number or from the address within the
// window the answer is ERATELIMIT with the seconds to wait, whatever the code.
func (s *Access) Status(ctx context.Context, number, code, clientAddr string) (*StatusView, error) {
	now := s.now()
	number, ok := ParseCaseNumber(number)
	if !ok {
		return nil, Invalid("case_number", "must look like KC-2025-000123")
	}
	numberKey, addressKey := "n:"+number, AddressKey(clientAddr)
	rec, err := s.Lookups.StatusCase(ctx, number, numberKey, addressKey, statusPlan)
	if err != nil {
		return nil, fmt.Errorf("status lookup: %w", err)
	}
	lockN, waitN := s.locked(rec.ByNumber, s.Settings.StatusMaxPerNumber, now)
	lockA, waitA := s.locked(rec.ByAddress, s.Settings.StatusMaxPerAddress, now)
	if lockN || lockA {
		e := Errorf(ERATELIMIT, "too many failed lookups; try again later or call the center")
		e.RetryAfterSeconds = max(waitN, waitA)
		return nil, e
	}
	id, hash := dummyCaseID, dummyHash
	if rec.Found {
		id, hash = rec.ID, rec.AccessCodeHash
	}
	if !AccessCodeMatches(hash, id, code) || !rec.Found {
		if err := s.Lookups.RecordFailure(ctx, []string{numberKey, addressKey}, now, s.Settings.StatusWindow); err != nil {
			return nil, fmt.Errorf("status lookup: %w", err)
		}
		return nil, errStatusNotFound()
	}
	if rec.ByNumber.Failures > 0 {
		if err := s.Lookups.ClearFailures(ctx, numberKey); err != nil {
			return nil, fmt.Errorf("status lookup: %w", err)
		}
	}
	v := &StatusView{CaseNumber: rec.Number, StageCount: StageCount, StateEnteredOn: DateOf(rec.StateEnteredAt),
		MissingDocuments: []string{}, CenterPhone: s.Settings.CenterPhone}
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
		}
	}
	if rec.State == WaitingList {
		if v.WaitingPosition, err = s.Lookups.WaitingPosition(ctx, rec.ID); err != nil {
			return nil, fmt.Errorf("status lookup: %w", err)
		}
	}
	return v, nil
}
