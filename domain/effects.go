package domain

import (
	"context"
	"errors"
	"strings"
	"time"
)

// The guards and effects of the lifecycle's events, one method per row of the table (Events),
// in its order. Each runs inside the FSM's before_event callback, so a refusal cancels the
// transition with its reasons; what it changes on the case lands only if the transition does.

// effects carries one event's command, the case it acts on, and what the event records in its
// history line (payload) besides.
type effects struct {
	s       *Service
	tx      CaseTx
	c       *Case
	cmd     EventCommand
	now     time.Time
	today   Date
	payload map[string]any
	// altDest, when set, is where the event leads instead of its row's Dest (AltDest).
	altDest State
	// freed are the beds the event gave back: each is offered to the next waiting case.
	freed []Bed
}

// refuse is a guard's refusal, with every reason it found.
func refuse(reasons ...Reason) error {
	english := make([]string, len(reasons))
	for i, r := range reasons {
		english[i] = r.english
	}
	return &Error{Code: EUNPROCESSABLE, Message: "the event's conditions are not met: " + strings.Join(english, "; "), Reasons: reasons}
}

// Refuse is a guard's refusal for one reason of the catalogue (for the store's guards, such as
// the last bed).
func Refuse(field, format string, args ...any) error { return refuse(because(field, format, args...)) }

// submit_for_review: every mandatory document received and valid.
func (e *effects) submitForReview(context.Context) error {
	if reasons := e.c.Checklist.Blocking(e.today, false); len(reasons) > 0 {
		return refuse(reasons...)
	}
	return nil
}

// return_for_documents, reject: a reason.
func (e *effects) needReason(context.Context) error {
	if strings.TrimSpace(e.cmd.Reason) == "" {
		return refuse(because("reason", "a reason is required"))
	}
	e.payload["reason"] = e.cmd.Reason
	return nil
}

// ippsuReasons are what is wrong with a command's IPPSU (recognize_need, review_ippsu): its
// number and date are required, and the date is not in the future.
func ippsuReasons(cmd EventCommand, today Date) []Reason {
	var reasons []Reason
	if strings.TrimSpace(cmd.IPPSUNumber) == "" {
		reasons = append(reasons, because("ippsu_number", "ippsu_number is required"))
	}
	if cmd.IPPSUDate == nil {
		reasons = append(reasons, because("ippsu_date", "ippsu_date is required"))
	} else if cmd.IPPSUDate.After(today) {
		reasons = append(reasons, because("ippsu_date", "ippsu_date cannot be in the future"))
	}
	return reasons
}

// recognize_need: the IPPSU's number and date, not in the future.
func (e *effects) recognizeNeed(ctx context.Context) error {
	c, cmd := e.c, e.cmd
	reasons := ippsuReasons(cmd, e.today)
	if len(reasons) > 0 {
		return refuse(reasons...)
	}
	p := Placement{Priority: DefaultPriority}
	if cmd.Placement != nil {
		p = *cmd.Placement
	}
	if err := refuseInvalid(p.check()); err != nil {
		return err
	}
	if old, err := e.tx.Placement(ctx, c.ID); err != nil {
		return err
	} else if old != nil {
		p.Refusals, p.Review = old.Refusals, old.Review
	}
	if err := e.tx.SavePlacement(ctx, c.ID, p); err != nil {
		return err
	}
	c.IPPSU = &IPPSU{Number: strings.TrimSpace(cmd.IPPSUNumber), Date: *cmd.IPPSUDate}
	e.payload["ippsu_number"], e.payload["ippsu_date"] = c.IPPSU.Number, c.IPPSU.Date.String()
	e.payload["placement"] = p.payload()
	return nil
}

// issue_voucher: an active home of the case's type with a free bed in a section that fits the
// person, reserved in the case's transaction (two vouchers racing for the last bed cannot both win).
func (e *effects) issueVoucher(ctx context.Context) error {
	c, cmd := e.c, e.cmd
	if cmd.FacilityID == "" {
		return refuse(because("facility_id", "facility_id is required"))
	}
	if !IsUUID(cmd.FacilityID) {
		return refuse(because("facility_id", "facility %s does not exist", cmd.FacilityID))
	}
	f, err := e.tx.Facility(ctx, cmd.FacilityID)
	if ErrorCode(err) == ENOTFOUND {
		return refuse(because("facility_id", "facility %s does not exist", cmd.FacilityID))
	} else if err != nil {
		return err
	}
	var reasons []Reason
	if f.Type != c.FacilityType {
		reasons = append(reasons, because("facility_id", "facility %s is of type %s, the case needs %s", f.Name, f.Type, c.FacilityType))
	}
	if !f.Active {
		reasons = append(reasons, because("facility_id", "%s does not take residents now", f.Name))
	}
	if f.ID == c.FacilityID {
		reasons = append(reasons, because("facility_id", "the person already lives in %s", f.Name))
	}
	validUntil := e.today.AddDays(e.s.Settings.VoucherValidDays)
	if cmd.ValidUntil != nil {
		if !cmd.ValidUntil.After(e.today) {
			reasons = append(reasons, because("valid_until", "valid_until must be after today"))
		}
		validUntil = *cmd.ValidUntil
	}
	if c.State == WaitingList {
		ahead, err := e.tx.CasesAhead(ctx, c.ID, f.ID)
		if err != nil {
			return err
		}
		if len(ahead) > 0 {
			if strings.TrimSpace(cmd.SkipReason) == "" {
				reasons = append(reasons, because("skip_reason", "%s is not first on the list for %s (before it: %s): give skip_reason",
					c.Number, f.Name, strings.Join(ahead, ", ")))
			}
			e.payload["passed_over"], e.payload["skip_reason"] = ahead, strings.TrimSpace(cmd.SkipReason)
		}
	}
	if len(reasons) > 0 {
		return refuse(reasons...)
	}
	if p, err := e.tx.Placement(ctx, c.ID); err != nil {
		return err
	} else if p != nil {
		c.Bedridden = p.Bedridden
	}
	section, err := e.tx.ReserveBed(ctx, c.ID, f.ID, c.BedNeed())
	if ErrorCode(err) == EUNPROCESSABLE {
		return refuse(because("facility_id", "%s has no free bed in a section for %s", f.Name, c.BedNeed()))
	} else if err != nil {
		return err
	}
	c.VoucherFacilityID = f.ID
	c.VoucherValidUntil = &validUntil
	c.Contract = nil // a contract is signed with the home of this voucher
	e.payload["facility_id"], e.payload["section"], e.payload["valid_until"] = f.ID, section, validUntil.String()
	return nil
}

// cancel_voucher: the bed is released; a voucher for a transfer leads back to transfer_pending.
func (e *effects) cancelVoucher(ctx context.Context) error {
	if e.c.FacilityID != "" {
		e.altDest = TransferPending
	}
	return e.releaseVoucherBed(ctx)
}

// admit: on a date not in the future and within the voucher, with the documents valid then; a
// transfer gives the old home's bed back.
func (e *effects) admit(ctx context.Context) error {
	c, cmd := e.c, e.cmd
	admitted := e.today
	if cmd.AdmittedOn != nil {
		admitted = *cmd.AdmittedOn
	}
	var reasons []Reason
	if admitted.After(e.today) {
		reasons = append(reasons, because("admitted_on", "admitted_on cannot be in the future"))
	}
	if c.VoucherValidUntil != nil && admitted.After(*c.VoucherValidUntil) {
		reasons = append(reasons, because("admitted_on", "the voucher expired on %s", c.VoucherValidUntil.String()))
	}
	reasons = append(reasons, c.Checklist.Blocking(admitted, true)...)
	if len(reasons) > 0 {
		return refuse(reasons...)
	}
	if err := e.releaseBed(ctx, c.FacilityID, BedOccupied, "previous_facility_id"); err != nil {
		return err
	}
	bed, err := e.tx.OccupyBed(ctx, c.ID)
	if err != nil {
		return err
	}
	if bed != nil {
		e.payload["section"] = bed.Section
	}
	c.FacilityID, c.VoucherFacilityID, c.VoucherValidUntil = c.VoucherFacilityID, "", nil
	e.payload["facility_id"], e.payload["admitted_on"] = c.FacilityID, admitted.String()
	return nil
}

// request_transfer: the type of home wanted (default: the case's own) and the preferences
// (default: the case's priority and traits, any home of the type), the reason recorded. The
// resident joins that waiting list from today (cases_transfer_requested_at, migration 00031)
// and keeps the current bed until admitted elsewhere; admit then frees it and offers it.
func (e *effects) requestTransfer(ctx context.Context) error {
	c, cmd := e.c, e.cmd
	ft := c.FacilityType
	if cmd.FacilityType != "" {
		if err := refuseInvalid(oneOf("facility_type", cmd.FacilityType, FacilityTypes)); err != nil {
			return err
		}
		ft = cmd.FacilityType
	}
	old, err := e.tx.Placement(ctx, c.ID)
	if err != nil {
		return err
	}
	p := Placement{Priority: DefaultPriority}
	if old != nil {
		p.Priority, p.Bedridden = old.Priority, old.Bedridden
	}
	if cmd.Placement != nil {
		p = *cmd.Placement
	}
	if err := refuseInvalid(p.check()); err != nil {
		return err
	}
	// a new list: the refusals counted on the old one do not follow
	p.Refusals, p.Review = 0, false
	if err := e.tx.SavePlacement(ctx, c.ID, p); err != nil {
		return err
	}
	if ft != c.FacilityType {
		e.payload["previous_facility_type"] = string(c.FacilityType)
	}
	c.FacilityType = ft
	e.payload["facility_type"], e.payload["placement"] = string(ft), p.payload()
	if r := strings.TrimSpace(cmd.Reason); r != "" {
		e.payload["reason"] = r
	}
	return nil
}

// start_leave: a planned return within MaxLeaveDays.
func (e *effects) startLeave(context.Context) error {
	cmd := e.cmd
	if cmd.ReturnBy == nil {
		return refuse(because("return_by", "return_by is required"))
	}
	if !cmd.ReturnBy.After(e.today) || cmd.ReturnBy.After(e.today.AddDays(e.s.Settings.MaxLeaveDays)) {
		return refuse(because("return_by", "return_by must be within the next %d days", e.s.Settings.MaxLeaveDays))
	}
	e.c.LeaveReturnBy = cmd.ReturnBy
	e.payload["return_by"] = cmd.ReturnBy.String()
	return nil
}

// end_leave, hospitalize: no planned return any more.
func (e *effects) clearLeave(context.Context) error {
	e.c.LeaveReturnBy = nil
	return nil
}

// discharge: a reason; the bed is released.
func (e *effects) discharge(ctx context.Context) error {
	if err := e.needReason(ctx); err != nil {
		return err
	}
	return e.releaseResidenceBed(ctx)
}

// record_death: the date of death, not in the future; the bed is released.
func (e *effects) recordDeath(ctx context.Context) error {
	cmd := e.cmd
	if cmd.DateOfDeath == nil {
		return refuse(because("date_of_death", "date_of_death is required"))
	}
	if cmd.DateOfDeath.After(e.today) {
		return refuse(because("date_of_death", "date_of_death cannot be in the future"))
	}
	e.payload["date_of_death"] = cmd.DateOfDeath.String()
	return e.releaseResidenceBed(ctx)
}

// withdraw: not during a transfer; a voucher's bed is released.
func (e *effects) withdraw(ctx context.Context) error {
	if e.c.InTransfer() {
		return refuse(because("", "the person lives in a boarding house and a transfer is under way: cancel the voucher, then discharge"))
	}
	return e.releaseVoucherBed(ctx)
}

func (e *effects) releaseVoucherBed(ctx context.Context) error {
	if e.c.VoucherFacilityID == "" {
		return nil
	}
	if err := e.releaseBed(ctx, e.c.VoucherFacilityID, BedReserved, "released_facility_id"); err != nil {
		return err
	}
	e.c.VoucherFacilityID = ""
	e.c.VoucherValidUntil = nil
	return nil
}

func (e *effects) releaseResidenceBed(ctx context.Context) error {
	return e.releaseBed(ctx, e.c.FacilityID, BedOccupied, "released_facility_id")
}

// releaseBed releases the case's bed of the kind in the home facilityID ("": the case holds
// none, nothing happens) and names that home in the event's payload under key.
func (e *effects) releaseBed(ctx context.Context, facilityID string, kind BedKind, key string) error {
	if facilityID == "" {
		return nil
	}
	bed, err := e.tx.ReleaseBed(ctx, e.c.ID, kind)
	if err != nil {
		return err
	}
	e.free(bed)
	e.payload[key] = facilityID
	return nil
}

func (e *effects) free(b *Bed) {
	if b != nil {
		e.freed = append(e.freed, *b)
	}
}

// refuseInvalid turns a domain error (an argument of the event that does not check) into the
// refusal of the event, with its reasons; any other error is returned as it is.
func refuseInvalid(err error) error {
	var bad *Error
	if errors.As(err, &bad) {
		return refuse(ReasonsOf(bad)...)
	}
	return err
}
