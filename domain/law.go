package domain

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"
)

// The law's loose ends (../shared/domain.md "Deadlines", 442-ФЗ arts. 15-17): the appeal as a
// record, the ИППСУ's review, the contract with the home, and the longer decision period when
// the ИППСУ is issued with the decision.

// Appeal outcomes. An appeal is pending from its filing until the review it starts ends: a
// recognition grants it, a new refusal dismisses it, a withdrawal ends it.
const (
	AppealPending   = "pending"
	AppealGranted   = "granted"
	AppealDismissed = "dismissed"
	AppealWithdrawn = "withdrawn"
)

// AppealOutcomes lists the outcomes.
var AppealOutcomes = []string{AppealPending, AppealGranted, AppealDismissed, AppealWithdrawn}

// AppealRecord is one appeal against a refusal: its grounds, the day it was filed and its outcome.
type AppealRecord struct {
	Grounds   string `json:"grounds"`
	FiledOn   Date   `json:"filed_on"`
	Outcome   string `json:"outcome"`
	DecidedOn *Date  `json:"decided_on,omitempty"`
}

// Contract is the contract on social services signed with the home (442-ФЗ art. 17).
type Contract struct {
	Number   string `json:"number"`
	SignedOn Date   `json:"signed_on"`
}

// Law is the part of a case the law's loose ends keep, stored together.
type Law struct {
	DecisionWithIPPSU bool           `json:"decision_with_ippsu,omitempty"`
	Appeals           []AppealRecord `json:"appeals,omitempty"`
	Contract          *Contract      `json:"contract,omitempty"`
}

// LawOf is a case's law part.
func LawOf(c *Case) Law {
	return Law{DecisionWithIPPSU: c.DecisionWithIPPSU, Appeals: c.Appeals, Contract: c.Contract}
}

// SetLaw puts a stored law part on a case.
func (l Law) SetOn(c *Case) {
	c.DecisionWithIPPSU, c.Appeals, c.Contract = l.DecisionWithIPPSU, l.Appeals, l.Contract
}

func cloneAppeals(as []AppealRecord) []AppealRecord {
	out := slices.Clone(as)
	for i := range out {
		out[i].DecidedOn = clonePtr(out[i].DecidedOn)
	}
	return out
}

// decisionPeriod records submit_for_review's and appeal's choice of the longer decision period.
func (e *effects) decisionPeriod() {
	if e.cmd.DecisionWithIPPSU != nil {
		e.c.DecisionWithIPPSU = *e.cmd.DecisionWithIPPSU
		e.payload["decision_with_ippsu"] = e.c.DecisionWithIPPSU
	}
}

// submit_for_review with the choice of the decision period.
func (e *effects) submit(ctx context.Context) error {
	if err := e.submitForReview(ctx); err != nil {
		return err
	}
	e.decisionPeriod()
	return nil
}

// requiredText is a command's text field, trimmed: missing is the reason when it is empty, and
// one over max characters is refused (both added to reasons).
func requiredText(reasons *[]Reason, field, v string, max int, missing Reason) string {
	v = strings.TrimSpace(v)
	if v == "" {
		*reasons = append(*reasons, missing)
	} else if utf8.RuneCountInString(v) > max {
		*reasons = append(*reasons, because(field, "is longer than %d characters", max))
	}
	return v
}

// appeal: its grounds and the day it was filed (not in the future, not before the refusal).
func (e *effects) appeal(context.Context) error {
	cmd := e.cmd
	var reasons []Reason
	grounds := requiredText(&reasons, "grounds", cmd.Grounds, 2000, because("grounds", "the grounds of the appeal are required"))
	if cmd.FiledOn == nil {
		reasons = append(reasons, because("filed_on", "filed_on is required"))
	} else if cmd.FiledOn.After(e.today) {
		reasons = append(reasons, because("filed_on", "filed_on cannot be in the future"))
	} else if cmd.FiledOn.Before(DateOf(e.c.StateEnteredAt)) {
		reasons = append(reasons, because("filed_on", "filed_on cannot be before the refusal"))
	}
	if len(reasons) > 0 {
		return refuse(reasons...)
	}
	e.c.Appeals = append(cloneAppeals(e.c.Appeals), AppealRecord{Grounds: grounds, FiledOn: *cmd.FiledOn, Outcome: AppealPending})
	e.payload["grounds"], e.payload["filed_on"] = grounds, cmd.FiledOn.String()
	e.decisionPeriod()
	return nil
}

// decideAppeal gives the pending appeal its outcome when the review it started ends.
func (e *effects) decideAppeal(event EventName) {
	outcome := map[EventName]string{RecognizeNeed: AppealGranted, Reject: AppealDismissed, Withdraw: AppealWithdrawn}[event]
	n := len(e.c.Appeals)
	if outcome == "" || n == 0 || e.c.Appeals[n-1].Outcome != AppealPending {
		return
	}
	e.c.Appeals = cloneAppeals(e.c.Appeals)
	today := e.today
	e.c.Appeals[n-1].Outcome, e.c.Appeals[n-1].DecidedOn = outcome, &today
	e.payload["appeal_outcome"] = outcome
}

// review_ippsu: the new programme's number and date, not in the future and after the one it
// replaces. The review deadline it closes is met and the next one opens from the new date.
func (e *effects) reviewIPPSU(context.Context) error {
	c, cmd := e.c, e.cmd
	reasons := ippsuReasons(cmd, e.today)
	if cmd.IPPSUDate != nil && !cmd.IPPSUDate.After(e.today) && c.IPPSU != nil && !cmd.IPPSUDate.After(c.IPPSU.Date) {
		reasons = append(reasons, because("ippsu_date", "the new programme must be dated after the one it replaces (%s)", c.IPPSU.Date.String()))
	}
	if len(reasons) > 0 {
		return refuse(reasons...)
	}
	if c.IPPSU != nil {
		e.payload["previous_ippsu_number"], e.payload["previous_ippsu_date"] = c.IPPSU.Number, c.IPPSU.Date.String()
	}
	c.IPPSU = &IPPSU{Number: strings.TrimSpace(cmd.IPPSUNumber), Date: *cmd.IPPSUDate}
	e.payload["ippsu_number"], e.payload["ippsu_date"] = c.IPPSU.Number, c.IPPSU.Date.String()
	return nil
}

// sign_contract: the contract with the home the voucher is for, its number and the day it was
// signed (not in the future); it meets the contract deadline.
func (e *effects) signContract(context.Context) error {
	cmd := e.cmd
	var reasons []Reason
	number := requiredText(&reasons, "contract_number", cmd.ContractNumber, 100, because("contract_number", "contract_number is required"))
	signed := e.today
	if cmd.SignedOn != nil {
		signed = *cmd.SignedOn
	}
	if signed.After(e.today) {
		reasons = append(reasons, because("signed_on", "signed_on cannot be in the future"))
	}
	if e.c.Contract != nil {
		reasons = append(reasons, because("contract_number", "a contract is already recorded for this voucher (%s)", e.c.Contract.Number))
	}
	if len(reasons) > 0 {
		return refuse(reasons...)
	}
	e.c.Contract = &Contract{Number: number, SignedOn: signed}
	e.payload["contract_number"], e.payload["signed_on"] = number, signed.String()
	e.payload["facility_id"] = e.c.VoucherFacilityID
	return nil
}

// reviewDecisionWD is the decision period of a case: longer when the ИППСУ is issued with it.
func reviewDecisionWD(s Settings, c *Case) int {
	if c.DecisionWithIPPSU {
		return s.ReviewDecisionWithIPPSUWD
	}
	return s.ReviewDecisionWD
}
