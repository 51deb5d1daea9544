package demo

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"carepath/domain"
)

// The demo's histories are spread over the past months, as a real center's are: each case is
// registered some weeks or months ago and walked through its events a few days apart, on a
// copy of the service whose clock reads that past time. Deadlines opened then fall due then,
// so some are overdue today, as they would be.

// demoClock is the time a demo case's walk has reached.
type demoClock struct{ t time.Time }

func (c *demoClock) now() time.Time { return c.t }

// startOf is when the n-th demo case was registered: between about 5 months and 1 day ago,
// later for the cases still early in their path (intake, documents), so the list reads like a
// center's: old cases residing, new ones arriving.
func startOf(n int, state domain.State, real time.Time) time.Time {
	steps := len(demoPaths[state])
	daysAgo := 2 + steps*18 + (n*37)%25 // about 18 days per stage, plus a spread
	if steps == 0 {
		daysAgo = 1 + n%6
	}
	// office hours: 9:30 plus a few minutes per case
	d := real.AddDate(0, 0, -daysAgo)
	return time.Date(d.Year(), d.Month(), d.Day(), 9, 30+n%150, 0, 0, real.Location())
}

// stepAfter is how long a demo case waits before its k-th event: the legal stages take weeks;
// the last step of some cases comes late, so their open deadline is overdue today.
func stepAfter(ev domain.EventName, n int) time.Duration {
	days := 6 + (n*13)%9
	switch ev {
	case domain.RequestDocuments:
		days = 1 + n%3
	case domain.IssueVoucher, domain.Admit:
		days = 10 + n%12
	}
	return time.Duration(days) * 24 * time.Hour
}

// pastService is svc reading the time from clock.
func pastService(svc *domain.Service, clock *demoClock) *domain.Service {
	past := *svc
	past.Now = clock.now
	return &past
}

// demoColleague is a second specialist, without a token: she holds part of the demo's cases,
// so the supervisors' board compares two people's work.
const demoColleague = "Демо Специалист Орлова"

// seedDemoColleague adds the second specialist; userIDs gets her as "specialist2".
func seedDemoColleague(ctx context.Context, g *gorm.DB, userIDs map[string]string) error {
	var id string
	err := g.WithContext(ctx).Raw(`INSERT INTO users (name, role) VALUES (?, ?)
		ON CONFLICT ((lower(name))) DO UPDATE SET role = excluded.role RETURNING id`, demoColleague, domain.RoleSpecialist).Scan(&id).Error
	if err != nil {
		return fmt.Errorf("seed user %s: %w", demoColleague, err)
	}
	userIDs["specialist2"] = id
	return nil
}

// demoAssignee is who holds the n-th demo case: mostly the demo specialist, every third her
// colleague; every seventh is left to the assignment rule (AUTO_ASSIGN gives it to the least
// busy specialist; with AUTO_ASSIGN=false it waits for a supervisor to give it out).
func demoAssignee(n int, userIDs map[string]string) string {
	switch {
	case n%7 == 0:
		return ""
	case n%3 == 1:
		return userIDs["specialist2"]
	}
	return userIDs[domain.RoleSpecialist]
}

// demoFiledBy are the cases the service centers file themselves, so that each agency's demo
// key sees a case of its own (health, guardianship and the home see theirs as parties).
var demoFiledBy = []struct {
	kind    domain.AgencyKind
	channel domain.Channel
	name    string
}{
	{domain.AgencyMFC, "mfc", "Фёдорова Зинаида Алексеевна"},
	{domain.AgencyPostOffice, "post_office", "Григорьева Лидия Павловна"},
}

// seedFiledByAgencies registers the cases the MFC and the post office file, a few days ago, as
// those agencies; it skips the ones that exist.
func seedFiledByAgencies(ctx context.Context, g *gorm.DB, svc *domain.Service, agencyIDs map[string]string) (created int, err error) {
	for i, f := range demoFiledBy {
		var existing int64
		if err := g.WithContext(ctx).Raw("SELECT count(*) FROM cases WHERE applicant_name = ?", f.name).Scan(&existing).Error; err != nil {
			return created, err
		}
		if existing > 0 || agencyIDs[string(f.kind)] == "" {
			continue
		}
		clock := &demoClock{time.Now().AddDate(0, 0, -3-i*4)}
		agency := domain.Actor{ID: agencyIDs[string(f.kind)], Name: string(f.kind), Kind: domain.ActorAgency, Role: string(f.kind)}
		n := 900 + i
		nc := domain.NewCase{Channel: f.channel, FacilityType: domain.ElderlyDisabled,
			Applicant: domain.Applicant{FullName: f.name, BirthDate: domain.NewDate(1936+i, time.March, 3+i), Gender: "female",
				SNILS: demoSNILS(n), Address: fmt.Sprintf("Москва, ул. Ротерта, д. %d", 2+i), LegalCapacity: domain.Capable, DisabilityGroup: "2"},
			Contacts: []domain.Contact{{Name: "Родственник " + f.name, Relation: "daughter", Phone: fmt.Sprintf("+7 916 900-1%d-0%d", i, i),
				ConsentToNotices: true, PreferredChannel: "sms"}},
		}
		if _, _, err := pastService(svc, clock).Register(ctx, agency, nc); err != nil {
			return created, fmt.Errorf("seed case %s filed by %s: %w", f.name, f.kind, err)
		}
		created++
	}
	return created, nil
}
