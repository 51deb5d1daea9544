package api

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"carepath/domain"
)

// TestAppendCaseView: the hand encoder writes the bytes encoding/json writes for caseView,
// over random cases: every optional field present or absent, nil and empty lists, strings
// that need escaping (HTML characters, quotes, control characters, U+2028, invalid UTF-8),
// instants in several zones with and without fractions of a second.
func TestAppendCaseView(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	texts := []string{"", "Иванов Иван Иванович", `a "quoted" <b> & c`, "tab\there\x01", "bad \xff utf-8", "line\u2028sep", "😀 €", `back\slash`}
	str := func() string { return texts[r.IntN(len(texts))] }
	opt := func() string {
		if r.IntN(2) == 0 {
			return ""
		}
		return str()
	}
	moscow := time.FixedZone("MSK", 3*3600)
	instant := func() time.Time {
		t := time.Date(2020+r.IntN(8), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), 0, time.UTC)
		switch r.IntN(3) {
		case 0:
			t = t.Add(time.Duration(r.IntN(1e9)))
		case 1:
			t = t.Add(time.Duration(r.IntN(1e6)) * time.Microsecond)
		}
		if r.IntN(2) == 0 {
			t = t.In(moscow)
		}
		return t
	}
	date := func() domain.Date {
		if r.IntN(5) == 0 {
			return domain.Date{}
		}
		return domain.DateOf(instant())
	}
	datePtr := func() *domain.Date {
		if r.IntN(2) == 0 {
			return nil
		}
		d := date()
		return &d
	}
	for i := 0; i < 500; i++ {
		c := &domain.Case{ID: str(), Number: str(), State: domain.State(str()), Version: r.IntN(100), Channel: domain.Channel(str()),
			FacilityType: domain.FacilityType(str()),
			Applicant: domain.Applicant{FullName: str(), BirthDate: date(), Gender: str(), SNILS: str(), Passport: opt(), Address: str(),
				Phone: opt(), LegalCapacity: domain.LegalCapacity(str()), DisabilityGroup: str()},
			HealthOrgID: opt(), GuardianshipID: opt(), FacilityID: opt(), VoucherFacilityID: opt(), VoucherValidUntil: datePtr(),
			LeaveReturnBy: datePtr(), AssigneeID: opt(), FiledByAgencyID: opt(),
			StateEnteredAt: instant(), CreatedAt: instant(), UpdatedAt: instant(), AccessCodeHash: str()}
		if r.IntN(2) == 0 {
			c.WaitingPosition = r.IntN(1000)
		}
		if r.IntN(3) == 0 {
			c.IPPSU = &domain.IPPSU{Number: str(), Date: date()}
		}
		if r.IntN(3) == 0 {
			c.DecisionWithIPPSU = true
			c.Appeals = []domain.AppealRecord{{Grounds: str(), FiledOn: date(), Outcome: str(), DecidedOn: datePtr()}}
			c.Contract = &domain.Contract{Number: str(), SignedOn: date()}
		}
		if r.IntN(4) != 0 {
			c.Contacts = []domain.Contact{}
			for range r.IntN(3) {
				c.Contacts = append(c.Contacts, domain.Contact{Name: str(), Relation: str(), Phone: opt(), Email: opt(),
					LegalRepresentative: r.IntN(2) == 0, ConsentToNotices: r.IntN(2) == 0, ConsentOn: opt(), ConsentSource: opt(),
					ConsentWithdrawnOn: opt(), PreferredChannel: str()})
			}
		}
		v := caseView{Case: c, StateLabel: str(), AccessCode: opt()}
		if r.IntN(4) != 0 {
			v.AllowedEvents = []string{}
			for range r.IntN(4) {
				v.AllowedEvents = append(v.AllowedEvents, str())
			}
		}
		if r.IntN(4) != 0 {
			v.Checklist = []domain.Document{}
			for range r.IntN(5) {
				v.Checklist = append(v.Checklist, domain.Document{Type: domain.DocType(str()), Status: domain.DocStatus(str()),
					Required: r.IntN(2) == 0, Supplier: str(), IssuedOn: datePtr(), ValidUntil: datePtr(), Note: opt()})
			}
		}
		if r.IntN(4) != 0 {
			v.Deadlines = []domain.Deadline{}
			for range r.IntN(3) {
				d := domain.Deadline{ID: r.Int64N(1e9), Kind: domain.DeadlineKind(str()), Ref: opt(), OpenedAt: instant(), DueOn: date(),
					DueAt: instant(), State: domain.DeadlineState(str())}
				if r.IntN(2) == 0 {
					at := instant()
					d.ClosedAt = &at
				}
				v.Deadlines = append(v.Deadlines, d)
			}
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendCaseView(nil, &v); !bytes.Equal(got, want) {
			t.Fatalf("case %d: hand encoding differs:\n got %s\nwant %s", i, got, want)
		}
	}
}
