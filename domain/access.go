package domain

import (
	"slices"
	"time"
)

// Who may do what: this file is the one place carepath decides it. The api checks route-level
// actions with Authorize; the Service checks the case-level rules (party to the case, which
// events and documents an agency kind may report) with the functions below; the role matrix test
// walks every route against the same tables.

// Action is something an actor may be allowed to do.
type Action string

// Actions, one per kind of route.
const (
	ActPublic         Action = "public"          // no credential needed
	ActSelf           Action = "self"            // any authenticated actor: who am I
	ActFacilitiesRead Action = "facilities.read" // the boarding houses and their beds
	ActCaseCreate     Action = "case.create"     // register an application
	ActCaseRead       Action = "case.read"       // the whole case, lists, history
	ActCaseEvent      Action = "case.event"      // fire lifecycle events (agencies: their own)
	ActCaseDocument   Action = "case.document"   // record documents (agencies: their own)
	ActCaseAccessCode Action = "case.access_code"
	ActCaseReassign   Action = "case.reassign"
	ActDeadlinesRead  Action = "deadlines.read" // deadlines of one's own cases
	ActDeadlinesAll   Action = "deadlines.all"  // every specialist's deadlines
	ActUsersManage    Action = "users.manage"
	ActAgenciesManage Action = "agencies.manage"
	ActAuditRead      Action = "audit.read"
	ActAgencyCases    Action = "agency.cases" // an agency's own cases, cut to its role
	ActFacilityBeds   Action = "facility.beds"
	ActNotices        Action = "notices"    // a case's notices and their delivery
	ActOpsQueues      Action = "ops.queues" // the job queue console
	ActContacts       Action = "contacts"   // the hotline's contact log
	// ActContactRequestDone: report what came of a request to reach a resident.
	ActContactRequestDone Action = "contact_request.done"
	ActLeadSubmit         Action = "lead.submit" // submit an outreach lead
	ActLeadsRead          Action = "leads.read"  // the triage queue (agencies: their own leads' state)
	ActLeadsTriage        Action = "leads.triage"
	// ActFacilitiesManage: add and change homes and their sections.
	ActFacilitiesManage Action = "facilities.manage"
	// ActCasePlacement: change a case's priority, traits and preferences on the waiting list.
	ActCasePlacement Action = "case.placement"
	// ActPrioritiesManage: the waiting list's priority categories.
	ActPrioritiesManage Action = "priorities.manage"
	// ActStatsRead: the center's figures and their exports (supervisors and admins).
	ActStatsRead Action = "stats.read"
	// ActCaseEdit: correct the applicant's facts, and add, change and remove relatives.
	ActCaseEdit Action = "case.edit"
)

// HiddenAction reports whether a refusal of the action is a 404 to every role.
func HiddenAction(act Action) bool { return slices.Contains(hiddenActions, act) }

// hiddenActions are refused as a route that does not exist (404), to every role: who may not
// read the figures does not learn that they are there.
var hiddenActions = []Action{ActStatsRead}

// Actor kinds.
const (
	ActorUser   = "user"
	ActorAgency = "agency"
	ActorSystem = "system"
)

// Roles of the center's specialists.
const (
	RoleSpecialist = "specialist"
	RoleSupervisor = "supervisor"
	RoleAdmin      = "admin"
)

// Roles lists the specialists' roles.
var Roles = []string{RoleSpecialist, RoleSupervisor, RoleAdmin}

// AgencyKind is the kind of a partner agency.
type AgencyKind string

// Agency kinds.
const (
	AgencyMFC              AgencyKind = "mfc"
	AgencyHealth           AgencyKind = "health"
	AgencyGuardianship     AgencyKind = "guardianship"
	AgencyFacility         AgencyKind = "facility"
	AgencySocialProtection AgencyKind = "social_protection"
)

// AgencyKinds lists the agency kinds.
var AgencyKinds = []AgencyKind{AgencyMFC, AgencyHealth, AgencyGuardianship, AgencyFacility, AgencySocialProtection, AgencyPostOffice}

var specialistActions = []Action{ActSelf, ActFacilitiesRead, ActCaseCreate, ActCaseRead, ActCaseEvent,
	ActCaseDocument, ActCaseAccessCode, ActDeadlinesRead, ActNotices, ActContacts,
	ActContactRequestDone, ActLeadSubmit, ActLeadsRead, ActLeadsTriage, ActCasePlacement, ActCaseEdit}

// Grants is the role matrix: for each "kind:role" the actions granted. Agencies are further
// limited, case by case, to the cases they are a party to and to AgencyEvents/AgencyDocuments.
// The admin manages identities and reads the audit; by need-to-know it does not read cases.
var Grants = map[string][]Action{
	"user:specialist": specialistActions,
	"user:supervisor": append(slices.Clone(specialistActions), ActCaseReassign, ActDeadlinesAll, ActFacilitiesManage, ActStatsRead),
	"user:admin": {ActSelf, ActFacilitiesRead, ActUsersManage, ActAgenciesManage, ActAuditRead, ActOpsQueues, ActFacilitiesManage,
		ActPrioritiesManage, ActStatsRead},

	"agency:mfc":               {ActSelf, ActCaseCreate, ActAgencyCases},
	"agency:health":            {ActSelf, ActAgencyCases, ActCaseEvent, ActCaseDocument},
	"agency:guardianship":      {ActSelf, ActAgencyCases, ActCaseDocument},
	"agency:facility":          {ActSelf, ActAgencyCases, ActCaseEvent, ActFacilityBeds, ActContactRequestDone},
	"agency:social_protection": {ActSelf, ActAgencyCases, ActLeadSubmit, ActLeadsRead},
	"agency:post_office":       {ActSelf, ActCaseCreate, ActAgencyCases, ActLeadSubmit, ActLeadsRead},
}

// AgencyEvents are the lifecycle events each agency kind may report, on cases it is party to.
var AgencyEvents = map[AgencyKind][]EventName{
	AgencyHealth:   {Hospitalize, EndHospitalization},
	AgencyFacility: {Admit, SignContract, StartLeave, EndLeave, Hospitalize, EndHospitalization, Discharge, RecordDeath},
}

// AgencyDocuments says which documents an agency kind may record: health organisations the
// medical ones, guardianship bodies their decisions.
func AgencyDocuments(kind AgencyKind, t DocType) bool {
	d, ok := docIndex[t]
	if !ok {
		return false
	}
	switch kind {
	case AgencyHealth:
		return d.Medical
	case AgencyGuardianship:
		return t == DocGuardianshipDecision
	}
	return false
}

// Agency returns the kind of an agency actor ("" for anyone else).
func (a Actor) Agency() AgencyKind {
	if a.Kind != ActorAgency {
		return ""
	}
	return AgencyKind(a.Role)
}

// May reports whether the matrix grants an action to the actor.
func (a Actor) May(act Action) bool {
	if act == ActPublic {
		return true
	}
	if a.Kind == ActorSystem {
		return true
	}
	return slices.Contains(Grants[a.Kind+":"+a.Role], act)
}

// Authorize returns nil when the matrix grants the action; otherwise EFORBIDDEN for a specialist
// and ENOTFOUND for an agency, which must not learn what lies outside its own surface, and for
// anyone refused a hidden action (HiddenAction).
func Authorize(a Actor, act Action) error {
	if a.May(act) {
		return nil
	}
	if a.Kind == ActorAgency || slices.Contains(hiddenActions, act) {
		return Errorf(ENOTFOUND, "not found")
	}
	return Errorf(EFORBIDDEN, "role %s may not do %s", a.Role, act)
}

// notVisible is what an agency hears about a case it is not party to, or an event or document it
// may not report: the same as for a case that does not exist.
func notVisible(id string) error { return Errorf(ENOTFOUND, "case %s not found", id) }

// PartyTo reports whether an agency is a party to a case: the health organisation and the
// guardianship body named on it, the service center that filed it, and a boarding house whose
// bed the person occupies or holds a voucher for.
func PartyTo(a Actor, c *Case) bool {
	if a.Kind != ActorAgency || a.ID == "" {
		return false
	}
	switch a.Agency() {
	case AgencyHealth:
		return c.HealthOrgID == a.ID
	case AgencyGuardianship:
		return c.GuardianshipID == a.ID
	case AgencyMFC, AgencyPostOffice:
		return c.FiledByAgencyID == a.ID
	case AgencyFacility:
		return ownFacility(a, c.FacilityID) || ownFacility(a, c.VoucherFacilityID)
	}
	return false
}

func ownFacility(a Actor, id string) bool { return id != "" && slices.Contains(a.Facilities, id) }

// MayFire reports whether the actor may fire the event on this case. Specialists may fire any
// event (the lifecycle guards decide the rest); an agency only its kind's events on cases it is
// party to, and a boarding house admits only on its own voucher and reports the rest only for
// its own residents.
func MayFire(a Actor, c *Case, ev EventName) bool {
	switch a.Kind {
	case ActorSystem:
		return true
	case ActorUser:
		return a.May(ActCaseEvent)
	}
	if !a.May(ActCaseEvent) || !slices.Contains(AgencyEvents[a.Agency()], ev) || !PartyTo(a, c) {
		return false
	}
	if a.Agency() == AgencyFacility {
		if ev == Admit || ev == SignContract {
			return ownFacility(a, c.VoucherFacilityID)
		}
		return ownFacility(a, c.FacilityID)
	}
	return true
}

// MayRecordDocument reports whether the actor may record the document on this case.
func MayRecordDocument(a Actor, c *Case, t DocType) bool {
	switch a.Kind {
	case ActorSystem:
		return true
	case ActorUser:
		return a.May(ActCaseDocument)
	}
	return a.May(ActCaseDocument) && AgencyDocuments(a.Agency(), t) && PartyTo(a, c)
}

// CaseField is a part of a case that only some agency kinds are shown.
type CaseField string

// The parts of a case AgencyFields gives out by kind.
const (
	// FieldFacilityType is the type of home: a psychoneurological one tells a mental disorder
	// (medical secrecy, Law 3185-1 art. 9).
	FieldFacilityType CaseField = "facility_type"
	// FieldLegalCapacity is whether the applicant is legally capable.
	FieldLegalCapacity CaseField = "legal_capacity"
	// FieldPlacement is where the person lives or will live: the home, the voucher's home and
	// its last day, the planned return from leave.
	FieldPlacement CaseField = "placement"
	// FieldRepresentatives are the applicant's legal representatives with their contacts.
	FieldRepresentatives CaseField = "representatives"
)

// AgencyFields is the agency view policy: what each kind is shown beyond what every agency is
// (the case's id, number, state, version and dates, the applicant's name, birth date, sex and
// masked SNILS, the documents it supplies or needs and the events it may report). Health
// organisations, guardianship bodies and homes need the type of home and legal capacity to do
// their part; the guardianship body and the homes follow the person's placement; only the
// guardianship body deals with the representatives. The service center that filed the case
// has handed it over and needs none of it. No kind is shown the channel a case came by or who
// at the center handles it (internal staffing), the address, the passport, other contacts,
// deadlines or notes.
var AgencyFields = map[AgencyKind][]CaseField{
	AgencyMFC:              {},
	AgencyHealth:           {FieldFacilityType, FieldLegalCapacity},
	AgencyGuardianship:     {FieldFacilityType, FieldLegalCapacity, FieldPlacement, FieldRepresentatives},
	AgencyFacility:         {FieldFacilityType, FieldLegalCapacity, FieldPlacement},
	AgencySocialProtection: {},
}

// AgencySees reports whether the policy shows the field to the agency kind.
func AgencySees(kind AgencyKind, f CaseField) bool { return slices.Contains(AgencyFields[kind], f) }

// AgencyApplicant is the applicant as an agency sees it: no address, no passport, SNILS masked.
type AgencyApplicant struct {
	FullName      string        `json:"full_name"`
	BirthDate     Date          `json:"birth_date"`
	Gender        string        `json:"gender"`
	SNILS         string        `json:"snils"`
	LegalCapacity LegalCapacity `json:"legal_capacity,omitempty"`
}

// AgencyCase is a case cut to what an agency's role needs (AgencyView).
type AgencyCase struct {
	ID                string          `json:"id"`
	Number            string          `json:"number"`
	State             State           `json:"state"`
	StateLabel        string          `json:"state_label"`
	Version           int             `json:"version"`
	Applicant         AgencyApplicant `json:"applicant"`
	FacilityType      FacilityType    `json:"facility_type,omitempty"`
	FacilityID        string          `json:"facility_id,omitempty"`
	VoucherFacilityID string          `json:"voucher_facility_id,omitempty"`
	VoucherValidUntil *Date           `json:"voucher_valid_until,omitempty"`
	LeaveReturnBy     *Date           `json:"leave_return_by,omitempty"`
	Representatives   []Contact       `json:"representatives,omitempty"`
	// Documents are the checklist items the agency supplies or needs, without notes.
	Documents      []AgencyDocument `json:"documents"`
	AllowedEvents  []string         `json:"allowed_events"`
	StateEnteredAt time.Time        `json:"state_entered_at"`
	CreatedAt      time.Time        `json:"created_at"`
}

// AgencyDocument is a checklist item without the specialist's notes.
type AgencyDocument struct {
	Type       DocType   `json:"type"`
	Label      string    `json:"label"`
	Status     DocStatus `json:"status"`
	Required   bool      `json:"required"`
	IssuedOn   *Date     `json:"issued_on"`
	ValidUntil *Date     `json:"valid_until"`
}

// AgencyCaseSummary is a line of an agency's case list.
type AgencyCaseSummary struct {
	ID             string       `json:"id"`
	Number         string       `json:"number"`
	State          State        `json:"state"`
	StateLabel     string       `json:"state_label"`
	Version        int          `json:"version"`
	ApplicantName  string       `json:"applicant_name"`
	FacilityType   FacilityType `json:"facility_type,omitempty"`
	StateEnteredAt time.Time    `json:"state_entered_at"`
	CreatedAt      time.Time    `json:"created_at"`
}

// AgencyCasePage is one page of an agency's case list; NextCursor is empty on the last page.
type AgencyCasePage struct {
	Items      []AgencyCaseSummary `json:"items"`
	NextCursor string              `json:"next_cursor"`
}

// AgencySummary is a list line cut by AgencyView, so that a list never shows an agency what
// the case itself would not.
func AgencySummary(a Actor, s CaseSummary, now time.Time) AgencyCaseSummary {
	v := AgencyView(a, &Case{ID: s.ID, Number: s.Number, State: s.State, Version: s.Version, FacilityType: s.FacilityType,
		Channel: s.Channel, AssigneeID: s.AssigneeID, Applicant: Applicant{FullName: s.ApplicantName},
		StateEnteredAt: s.StateEnteredAt, CreatedAt: s.CreatedAt, HealthOrgID: s.HealthOrgID, GuardianshipID: s.GuardianshipID,
		FiledByAgencyID: s.FiledByAgencyID, FacilityID: s.FacilityID, VoucherFacilityID: s.VoucherFacilityID}, now)
	return AgencyCaseSummary{ID: v.ID, Number: v.Number, State: v.State, StateLabel: v.StateLabel, Version: v.Version,
		ApplicantName: v.Applicant.FullName, FacilityType: v.FacilityType, StateEnteredAt: v.StateEnteredAt, CreatedAt: v.CreatedAt}
}

// AgencyView cuts a case to the agency's role, by AgencyFields: the one function every agency
// route shows a case through. The service center sees the applicant's own documents (what to
// bring), the health organisation the medical ones, the guardianship body its decisions, a
// boarding house the medical clearance it must check on admission.
func AgencyView(a Actor, c *Case, now time.Time) AgencyCase {
	kind := a.Agency()
	v := AgencyCase{ID: c.ID, Number: c.Number, State: c.State, Version: c.Version, StateEnteredAt: c.StateEnteredAt, CreatedAt: c.CreatedAt,
		Applicant: AgencyApplicant{FullName: c.Applicant.FullName, BirthDate: c.Applicant.BirthDate, Gender: c.Applicant.Gender,
			SNILS: MaskSNILS(c.Applicant.SNILS)},
		Documents: []AgencyDocument{}, AllowedEvents: []string{}}
	if st, ok := LookupState(c.State); ok {
		v.StateLabel = st.Label
	}
	if AgencySees(kind, FieldFacilityType) {
		v.FacilityType = c.FacilityType
	}
	if AgencySees(kind, FieldLegalCapacity) {
		v.Applicant.LegalCapacity = c.Applicant.LegalCapacity
	}
	if AgencySees(kind, FieldPlacement) {
		v.FacilityID, v.VoucherFacilityID, v.VoucherValidUntil, v.LeaveReturnBy = c.FacilityID, c.VoucherFacilityID, c.VoucherValidUntil, c.LeaveReturnBy
	}
	if AgencySees(kind, FieldRepresentatives) {
		for _, r := range c.Contacts {
			if r.LegalRepresentative {
				v.Representatives = append(v.Representatives, r)
			}
		}
	}
	today := DateOf(now)
	for _, d := range c.Checklist {
		def := docIndex[d.Type]
		var show bool
		switch kind {
		case AgencyMFC, AgencyPostOffice:
			show = def.Supplier == "applicant"
		case AgencyHealth, AgencyFacility:
			show = def.Medical
		case AgencyGuardianship:
			show = AgencyDocuments(kind, d.Type) || d.Type == DocIncapacityRuling
		}
		if show {
			v.Documents = append(v.Documents, AgencyDocument{Type: d.Type, Label: def.Label, Status: d.StatusOn(today),
				Required: d.Required, IssuedOn: d.IssuedOn, ValidUntil: d.ValidUntil})
		}
	}
	for _, ev := range AllowedEvents(c.State) {
		if MayFire(a, c, EventName(ev)) {
			v.AllowedEvents = append(v.AllowedEvents, ev)
		}
	}
	return v
}
