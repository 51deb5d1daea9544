package domain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/looplab/fsm"
)

// State is where a case stands.
type State string

// The states of a case (../shared/domain.md "The lifecycle of a case").
const (
	Intake              State = "intake"
	CollectingDocuments State = "collecting_documents"
	UnderReview         State = "under_review"
	Rejected            State = "rejected"
	WaitingList         State = "waiting_list"
	VoucherIssued       State = "voucher_issued"
	Residing            State = "residing"
	OnLeave             State = "on_leave"
	Hospitalized        State = "hospitalized"
	TransferPending     State = "transfer_pending"
	Discharged          State = "discharged"
	Deceased            State = "deceased"
	Withdrawn           State = "withdrawn"
)

// StateDef describes a state: its code, the label shown to people and whether it ends the case.
type StateDef struct {
	Name     State  `json:"name"`
	Label    string `json:"label"`
	Terminal bool   `json:"terminal"`
	// Stage numbers the path a family walks (1..StageCount); 0 for states off the main path.
	Stage int `json:"stage"`
}

// States lists every state in the order a case usually passes them.
var States = []StateDef{
	{Intake, "Заявление зарегистрировано", false, 1},
	{CollectingDocuments, "Сбор документов", false, 2},
	{UnderReview, "Рассмотрение заявления", false, 3},
	{Rejected, "Отказ", false, 0},
	{WaitingList, "Очередь на путёвку", false, 4},
	{VoucherIssued, "Путёвка выдана", false, 5},
	{Residing, "Проживает в учреждении", false, 6},
	{OnLeave, "Временное выбытие", false, 6},
	{Hospitalized, "На госпитализации", false, 6},
	{TransferPending, "Ожидает перевода", false, 6},
	{Discharged, "Выбыл из учреждения", true, 0},
	{Deceased, "Умер", true, 0},
	{Withdrawn, "Заявление отозвано", true, 0},
}

// StageCount is the number of stages on the main path (intake .. residing).
const StageCount = 6

// EventName names a lifecycle event.
type EventName string

// The lifecycle events.
const (
	RequestDocuments   EventName = "request_documents"
	SubmitForReview    EventName = "submit_for_review"
	ReturnForDocuments EventName = "return_for_documents"
	RecognizeNeed      EventName = "recognize_need"
	Reject             EventName = "reject"
	Appeal             EventName = "appeal"
	IssueVoucher       EventName = "issue_voucher"
	CancelVoucher      EventName = "cancel_voucher"
	Admit              EventName = "admit"
	StartLeave         EventName = "start_leave"
	EndLeave           EventName = "end_leave"
	Hospitalize        EventName = "hospitalize"
	EndHospitalization EventName = "end_hospitalization"
	RequestTransfer    EventName = "request_transfer"
	Discharge          EventName = "discharge"
	RecordDeath        EventName = "record_death"
	Withdraw           EventName = "withdraw"
	// ReviewIPPSU records the programme's review (at least every IPPSUReviewYears): the case
	// stays where it is.
	ReviewIPPSU EventName = "review_ippsu"
	// SignContract records the contract with the home the voucher is for (442-ФЗ art. 17).
	SignContract EventName = "sign_contract"
)

// EventDef is one row of the lifecycle table.
type EventDef struct {
	Name    EventName `json:"name"`
	Sources []State   `json:"sources"`
	// Dest is where the event leads; empty for an event that records something and leaves the
	// case where it is (Stays).
	Dest State `json:"destination,omitempty"`
	// AltDest is where the event leads instead of Dest in a special case (cancel_voucher during a
	// transfer goes back to transfer_pending); empty when there is none.
	AltDest State `json:"alternative_destination,omitempty"`
	// Stays: the event keeps the case in the state it is fired in.
	Stays bool   `json:"stays,omitempty"`
	Guard string `json:"guard,omitempty"`
	// apply is the event's guard and effects on the case (effects.go); nil when it has none.
	// It runs inside the FSM's before_event callback, so a refusal cancels the transition.
	apply func(e *effects, ctx context.Context) error
}

// Events is the lifecycle table: written once, the FSM, the OpenAPI enums, GET /lifecycle and
// the Mermaid diagram are all derived from it.
var Events = []EventDef{
	{RequestDocuments, []State{Intake}, CollectingDocuments, "", false, "", nil},
	{SubmitForReview, []State{CollectingDocuments}, UnderReview, "", false, "every mandatory document received and valid", (*effects).submit},
	{ReturnForDocuments, []State{UnderReview}, CollectingDocuments, "", false, "a reason", (*effects).needReason},
	{RecognizeNeed, []State{UnderReview}, WaitingList, "", false, "IPPSU number and date recorded", (*effects).recognizeNeed},
	{Reject, []State{UnderReview}, Rejected, "", false, "a reason", (*effects).needReason},
	{Appeal, []State{Rejected}, UnderReview, "", false, "the grounds and the day the appeal was filed", (*effects).appeal},
	{IssueVoucher, []State{WaitingList, TransferPending}, VoucherIssued, "", false, "a facility of the right type with a free bed; the bed is reserved atomically", (*effects).issueVoucher},
	{CancelVoucher, []State{VoucherIssued}, WaitingList, TransferPending, false, "the bed is released; back to transfer_pending when the voucher was for a transfer", (*effects).cancelVoucher},
	{Admit, []State{VoucherIssued}, Residing, "", false, "medical clearance still valid on the admission date", (*effects).admit},
	{StartLeave, []State{Residing}, OnLeave, "", false, "a planned return date at most 30 days ahead", (*effects).startLeave},
	{EndLeave, []State{OnLeave}, Residing, "", false, "", (*effects).clearLeave},
	{Hospitalize, []State{Residing, OnLeave}, Hospitalized, "", false, "", (*effects).clearLeave},
	{EndHospitalization, []State{Hospitalized}, Residing, "", false, "", nil},
	{RequestTransfer, []State{Residing}, TransferPending, "", false, "the type of home wanted and the preferences (the reason is recorded); the resident joins that waiting list and keeps the bed", (*effects).requestTransfer},
	{Discharge, []State{Residing, OnLeave, Hospitalized, TransferPending}, Discharged, "", false, "a reason; the bed is released", (*effects).discharge},
	{RecordDeath, []State{Residing, OnLeave, Hospitalized, TransferPending}, Deceased, "", false, "the date of death; the bed is released", (*effects).recordDeath},
	{Withdraw, []State{Intake, CollectingDocuments, UnderReview, Rejected, WaitingList, VoucherIssued}, Withdrawn, "", false, "not during a transfer", (*effects).withdraw},
	{ReviewIPPSU, placed, "", "", true, "the new programme's number and date, after the one it replaces", (*effects).reviewIPPSU},
	{SignContract, []State{VoucherIssued}, "", "", true, "the contract's number; signed today or earlier", (*effects).signContract},
}

var (
	stateIndex = map[State]StateDef{}
	eventIndex = map[EventName]EventDef{}
	fsmEvents  fsm.Events
	// fsmEventsOf holds each event's own rows of fsmEvents: a command's machine knows the one
	// event it fires (building the whole table was about a twelfth of carepath's CPU per event).
	fsmEventsOf = map[EventName]fsm.Events{}
	// allowedByState caches AllowedEvents.
	allowedByState = map[State][]string{}
)

func init() {
	for _, s := range States {
		stateIndex[s.Name] = s
	}
	for _, e := range Events {
		eventIndex[e.Name] = e
		src := make([]string, len(e.Sources))
		for i, s := range e.Sources {
			src[i] = string(s)
		}
		descs := []fsm.EventDesc{{Name: string(e.Name), Src: src, Dst: string(e.Dest)}}
		if e.Stays {
			// one row per source, each leading back to itself
			descs = descs[:0]
			for _, s := range src {
				descs = append(descs, fsm.EventDesc{Name: string(e.Name), Src: []string{s}, Dst: s})
			}
		}
		fsmEvents = append(fsmEvents, descs...)
		fsmEventsOf[e.Name] = append(fsmEventsOf[e.Name], descs...)
	}
	// Every case view lists its allowed events; they depend on the state alone, so the FSM is
	// asked once per state here rather than on every response.
	for _, st := range States {
		out := newMachine(st.Name, fsmEvents, nil).AvailableTransitions()
		sort.Strings(out)
		allowedByState[st.Name] = out
	}
}

// LookupState returns the definition of a state.
func LookupState(s State) (StateDef, bool) { d, ok := stateIndex[s]; return d, ok }

// LookupEvent returns the definition of an event.
func LookupEvent(e EventName) (EventDef, bool) { d, ok := eventIndex[e]; return d, ok }

// StateNames returns every state code, in table order.
func StateNames() []string {
	out := make([]string, len(States))
	for i, s := range States {
		out[i] = string(s.Name)
	}
	return out
}

// EventNames returns every event name, in table order.
func EventNames() []string {
	out := make([]string, len(Events))
	for i, e := range Events {
		out[i] = string(e.Name)
	}
	return out
}

// AllowedEvents returns the events the lifecycle allows from a state, sorted.
func AllowedEvents(s State) []string {
	if out, ok := allowedByState[s]; ok {
		if out == nil { // a terminal state: an empty list, not null
			return []string{}
		}
		return slices.Clone(out)
	}
	out := newMachine(s, fsmEvents, nil).AvailableTransitions()
	sort.Strings(out)
	return out
}

// guardFunc checks an event's conditions before the transition; a non-nil error cancels it.
type guardFunc func(ctx context.Context, event EventName) error

// newMachine builds a looplab FSM of the given rows of the table, positioned at the stored
// state. It holds no data of its own: each command gets a fresh machine, and concurrency is the
// database's business.
func newMachine(s State, events fsm.Events, guard guardFunc) *fsm.FSM {
	callbacks := fsm.Callbacks{}
	if guard != nil {
		callbacks["before_event"] = func(ctx context.Context, e *fsm.Event) {
			if err := guard(ctx, EventName(e.Event)); err != nil {
				e.Cancel(err)
			}
		}
	}
	return fsm.NewFSM(string(s), events, callbacks)
}

// transition runs an event through the FSM from the given state, calling guard first, and
// returns the state the FSM lands in. Errors are domain errors: unknown event EINVALID, not
// allowed here ECONFLICT, refused by a guard whatever code the guard chose.
func transition(ctx context.Context, from State, event EventName, guard guardFunc) (State, error) {
	if _, ok := eventIndex[event]; !ok {
		return from, Invalid("event", "unknown event %q; known events: %s", event, strings.Join(EventNames(), ", "))
	}
	// The machine of the fired event's rows answers it as the whole table's would: it moves
	// where the table says, refuses the event in a state it does not leave, calls the guard.
	m := newMachine(from, fsmEventsOf[event], guard)
	err := m.Event(ctx, string(event))
	var (
		invalid  fsm.InvalidEventError
		canceled fsm.CanceledError
		noTrans  fsm.NoTransitionError
	)
	switch {
	case err == nil:
		return State(m.Current()), nil
	case errors.As(err, &noTrans):
		// A self-transition (an event that Stays) is not an error; its guard has run.
		if noTrans.Err != nil {
			return from, noTrans.Err
		}
		return from, nil
	case errors.As(err, &invalid):
		return from, ErrorOn(ECONFLICT, "event", "event %s is not allowed in state %s; allowed: %s", event, from, strings.Join(AllowedEvents(from), ", "))
	case errors.As(err, &canceled):
		if canceled.Err != nil {
			return from, canceled.Err
		}
		return from, Errorf(EUNPROCESSABLE, "event %s was refused", event)
	default:
		return from, fmt.Errorf("lifecycle %s from %s: %w", event, from, err)
	}
}

// Mermaid renders the lifecycle as a Mermaid stateDiagram-v2.
func Mermaid() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	fmt.Fprintf(&b, "    [*] --> %s\n", Intake)
	for _, e := range Events {
		for _, s := range e.Sources {
			to := e.Dest
			if e.Stays {
				to = s
			}
			fmt.Fprintf(&b, "    %s --> %s: %s\n", s, to, e.Name)
		}
		if e.AltDest != "" {
			for _, s := range e.Sources {
				fmt.Fprintf(&b, "    %s --> %s: %s (transfer)\n", s, e.AltDest, e.Name)
			}
		}
	}
	for _, s := range States {
		if s.Terminal {
			fmt.Fprintf(&b, "    %s --> [*]\n", s.Name)
		}
	}
	return b.String()
}
