// Package demo loads carepath's demo data (`carepath seed`): a tool, not storage. It goes
// through the store's and the domain's own interfaces, like any other client of them.
package demo

import (
	"context"
	"fmt"
	"time"

	"carepath/domain"
	"carepath/store"
)

// DemoAccessCode opens the showcase demo case; it is printed by `carepath seed`. Demo data only.
const DemoAccessCode = "CAREPATH2345"

// DemoResult is what the demo seed reports.
type DemoResult struct {
	Created     int
	Existing    int
	ShowcaseID  string
	ShowcaseNum string
	// Credentials are the demo bearer tokens and API keys, printed by `carepath seed`.
	Credentials []DemoCredential
}

// DemoCredential is a demo identity and its bearer secret. The secrets are fixed and public:
// demo data only, never in production.
type DemoCredential struct {
	Who    string
	Role   string
	Secret string
}

type demoAgency struct{ name, kind, key string }

var demoAgencies = []demoAgency{
	{"МФЦ района Бабушкинский", "mfc", "cpk_demo_mfc_not_secret"},
	{"ГБУЗ «Городская поликлиника № 220»", "health", "cpk_demo_health_not_secret"},
	{"Орган опеки района Бабушкинский", "guardianship", "cpk_demo_guardianship_not_secret"},
	{"Управление социальной защиты СВАО", "social_protection", "cpk_demo_social_protection_not_secret"},
	{"Дирекция пансионата «Бабушкинский»", "facility", "cpk_demo_facility_not_secret"},
	{"Отделение почтовой связи 127282", "post_office", "cpk_demo_post_office_not_secret"},
}

// the facility the demo facility agency runs
const demoFacilityOfAgency = "Пансионат «Бабушкинский»"

var demoUsers = []struct{ name, role, token string }{
	{"Демо Специалист", domain.RoleSpecialist, "cpt_demo_specialist_not_secret"},
	{"Демо Руководитель", domain.RoleSupervisor, "cpt_demo_supervisor_not_secret"},
	{"Демо Администратор", domain.RoleAdmin, "cpt_demo_admin_not_secret"},
}

type demoFacility struct {
	name     string
	typ      domain.FacilityType
	capacity int
	district string
	// staleDays: how long ago the home last reported its beds
	staleDays int
}

var demoFacilities = []demoFacility{
	{"Пансионат «Бабушкинский»", domain.ElderlyDisabled, 120, "Бабушкинский", 1},
	{"Пансионат «Ясенево»", domain.ElderlyDisabled, 80, "Ясенево", 2},
	{"ПНИ № 30", domain.Psychoneurological, 150, "Лосиноостровский", 1},
	{"ПНИ № 5", domain.Psychoneurological, 90, "Ясенево", 3},
	{"Дом ветеранов № 1", domain.Veterans, 60, "Бабушкинский", 12}, // stale: no report for 12 days
}

// demoSections are the homes' extra sections besides the one for everybody (issue 17).
var demoSections = map[string][]domain.Section{
	"Пансионат «Бабушкинский»": {{Code: "care", Title: "Отделение милосердия", Sex: domain.SexAny, Bedridden: true, Capacity: 10},
		{Code: "men", Title: "Мужское отделение", Sex: domain.SexMale, Capacity: 20}},
	"ПНИ № 30": {{Code: "women", Title: "Женское отделение", Sex: domain.SexFemale, Capacity: 30}},
}

// demoPriorities are the waiting cases' priorities, by turn.
var demoPriorities = []string{"general", "first_turn", "general", "out_of_turn", "urgent_social", "general"}

var (
	demoSurnames = []string{"Иванова", "Петрова", "Смирнова", "Кузнецова", "Соколова", "Попова", "Лебедева", "Козлова", "Новикова", "Морозова", "Волкова", "Зайцева", "Павлова"}
	demoNames    = []string{"Мария Петровна", "Анна Ивановна", "Валентина Сергеевна", "Галина Николаевна"}
	// the path from intake to each state
	demoPaths = map[domain.State][]domain.EventName{
		domain.Intake:              nil,
		domain.CollectingDocuments: {domain.RequestDocuments},
		domain.UnderReview:         {domain.RequestDocuments, domain.SubmitForReview},
		domain.Rejected:            {domain.RequestDocuments, domain.SubmitForReview, domain.Reject},
		domain.WaitingList:         {domain.RequestDocuments, domain.SubmitForReview, domain.RecognizeNeed},
		domain.VoucherIssued:       {domain.RequestDocuments, domain.SubmitForReview, domain.RecognizeNeed, domain.IssueVoucher},
		domain.Residing:            {domain.RequestDocuments, domain.SubmitForReview, domain.RecognizeNeed, domain.IssueVoucher, domain.Admit},
		domain.OnLeave:             {domain.RequestDocuments, domain.SubmitForReview, domain.RecognizeNeed, domain.IssueVoucher, domain.Admit, domain.StartLeave},
		domain.Hospitalized:        {domain.RequestDocuments, domain.SubmitForReview, domain.RecognizeNeed, domain.IssueVoucher, domain.Admit, domain.Hospitalize},
		domain.TransferPending:     {domain.RequestDocuments, domain.SubmitForReview, domain.RecognizeNeed, domain.IssueVoucher, domain.Admit, domain.RequestTransfer},
		domain.Discharged:          {domain.RequestDocuments, domain.SubmitForReview, domain.RecognizeNeed, domain.IssueVoucher, domain.Admit, domain.Discharge},
		domain.Deceased:            {domain.RequestDocuments, domain.SubmitForReview, domain.RecognizeNeed, domain.IssueVoucher, domain.Admit, domain.RecordDeath},
		domain.Withdrawn:           {domain.RequestDocuments, domain.Withdraw},
	}
)

// demoSNILS makes a valid SNILS from a number.
func demoSNILS(n int) string { return domain.MakeSNILS(100000000 + n*7919) }

// SeedDemo loads the demo agencies, facilities and about fifty cases spread over every state,
// each walked through the real lifecycle so its history, checklist and deadlines are real.
// Running it again changes nothing: every item is looked up by its unique name first. cases
// sets the demo case's known access code: the store behind svc, or the cache in front of it.
func SeedDemo(ctx context.Context, db *store.DB, cases store.AccessCodes, svc *domain.Service) (DemoResult, error) {
	var res DemoResult
	g := db.Gorm.WithContext(ctx)
	agencyIDs := map[string]string{}
	keysValid := time.Now().AddDate(1, 0, 0)
	for _, a := range demoAgencies {
		var id string
		err := g.Raw(`INSERT INTO agencies (name, kind) VALUES (?, ?)
			ON CONFLICT (kind, name) DO UPDATE SET name = excluded.name RETURNING id`, a.name, a.kind).Scan(&id).Error
		if err != nil {
			return res, fmt.Errorf("seed agency %s: %w", a.name, err)
		}
		err = g.Exec(`INSERT INTO agency_keys (agency_id, key_hash, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (key_hash) DO UPDATE SET expires_at = excluded.expires_at, revoked_at = NULL`,
			id, domain.HashCredential(a.key), keysValid).Error
		if err != nil {
			return res, fmt.Errorf("seed key of agency %s: %w", a.name, err)
		}
		agencyIDs[a.kind] = id
		res.Credentials = append(res.Credentials, DemoCredential{Who: a.name, Role: "agency " + a.kind, Secret: a.key})
	}
	userIDs := map[string]string{}
	for _, u := range demoUsers {
		var id string
		err := g.Raw(`INSERT INTO users (name, role) VALUES (?, ?)
			ON CONFLICT ((lower(name))) DO UPDATE SET role = excluded.role RETURNING id`, u.name, u.role).Scan(&id).Error
		if err != nil {
			return res, fmt.Errorf("seed user %s: %w", u.name, err)
		}
		err = g.Exec(`INSERT INTO user_tokens (user_id, token_hash, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (token_hash) DO UPDATE SET expires_at = excluded.expires_at, revoked_at = NULL`,
			id, domain.HashCredential(u.token), keysValid).Error
		if err != nil {
			return res, fmt.Errorf("seed token of user %s: %w", u.name, err)
		}
		userIDs[u.role] = id
		res.Credentials = append(res.Credentials, DemoCredential{Who: u.name, Role: u.role, Secret: u.token})
	}
	facilityOf := map[domain.FacilityType][]string{}
	for _, f := range demoFacilities {
		var id string
		err := g.Raw(`INSERT INTO facilities (name, type, capacity) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`, f.name, string(f.typ), f.capacity).Scan(&id).Error
		if err != nil {
			return res, fmt.Errorf("seed facility %s: %w", f.name, err)
		}
		facilityOf[f.typ] = append(facilityOf[f.typ], id)
		err = g.Exec("UPDATE facilities SET district = ?, reported_at = now() - make_interval(days => ?) WHERE id = ?", f.district, f.staleDays, id).Error
		if err != nil {
			return res, fmt.Errorf("seed district of %s: %w", f.name, err)
		}
		for _, s := range demoSections[f.name] {
			err := g.Exec(`INSERT INTO facility_sections (facility_id, code, title, sex, bedridden, capacity) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT DO NOTHING`, id, s.Code, s.Title, string(s.Sex), s.Bedridden, s.Capacity).Error
			if err != nil {
				return res, fmt.Errorf("seed section %s of %s: %w", s.Code, f.name, err)
			}
		}
		if f.name == demoFacilityOfAgency {
			if err := g.Exec("UPDATE facilities SET agency_id = ? WHERE id = ?", agencyIDs["facility"], id).Error; err != nil {
				return res, fmt.Errorf("link facility %s: %w", f.name, err)
			}
		}
	}
	actor := domain.Actor{ID: "demo-seed", Name: "Демо-данные", Kind: "system", Role: "admin"}
	if err := seedDemoColleague(ctx, g, userIDs); err != nil {
		return res, err
	}
	n, waiting := 0, 0
	for i, surname := range demoSurnames {
		for j, name := range demoNames {
			state := domain.States[(i*len(demoNames)+j)%len(domain.States)].Name
			full := surname + " " + name
			n++
			var existing int64
			if err := g.Raw("SELECT count(*) FROM cases WHERE applicant_name = ?", full).Scan(&existing).Error; err != nil {
				return res, err
			}
			if existing > 0 {
				res.Existing++
				continue
			}
			nc := domain.NewCase{
				Channel:      domain.Channels[n%len(domain.Channels)],
				FacilityType: domain.FacilityTypes[n%len(domain.FacilityTypes)],
				Applicant: domain.Applicant{FullName: full, BirthDate: domain.NewDate(1930+n%30, time.Month(1+n%12), 1+n%27), Gender: "female",
					SNILS: demoSNILS(n), Passport: fmt.Sprintf("45 %02d %06d", n%100, 100000+n), Address: fmt.Sprintf("Москва, ул. Менжинского, д. %d, кв. %d", 1+n%40, 1+n%120),
					LegalCapacity: domain.Capable, DisabilityGroup: []string{"none", "1", "2", "3"}[n%4]},
				Contacts: []domain.Contact{{Name: "Родственник " + surname, Relation: "son", Phone: fmt.Sprintf("+7 916 %03d-%02d-%02d", n%1000, n%100, (n*7)%100),
					Email: fmt.Sprintf("relative%d@example.org", n), LegalRepresentative: n%3 == 0, ConsentToNotices: true, PreferredChannel: "sms"}},
				HealthOrgID: agencyIDs["health"],
				AssigneeID:  demoAssignee(n, userIDs),
			}
			if nc.FacilityType == domain.Psychoneurological && n%2 == 0 {
				nc.Applicant.LegalCapacity = domain.Incapacitated
				nc.GuardianshipID = agencyIDs["guardianship"]
			}
			clock := &demoClock{startOf(n, state, time.Now())}
			past := pastService(svc, clock)
			c, _, err := past.Register(ctx, actor, nc)
			if err != nil {
				return res, fmt.Errorf("seed case %s: %w", full, err)
			}
			if err := walkDemo(ctx, past, actor, c, demoPaths[state], facilityOf[nc.FacilityType], clock, n); err != nil {
				return res, fmt.Errorf("seed case %s to %s: %w", full, state, err)
			}
			if state == domain.WaitingList {
				// priorities and preferences: some name a district, some a home
				waiting++
				p := domain.Placement{Priority: demoPriorities[waiting%len(demoPriorities)], Bedridden: waiting%5 == 0}
				switch waiting % 3 {
				case 1:
					p.Districts = []string{demoFacilities[n%len(demoFacilities)].district}
				case 2:
					p.FacilityIDs = facilityOf[nc.FacilityType][:1]
				}
				if _, err := svc.SetPlacement(ctx, actor, c.ID, 0, p); err != nil {
					return res, fmt.Errorf("seed placement of %s: %w", full, err)
				}
			}
			res.Created++
		}
	}
	if err := seedPlacement(ctx, db, svc, actor, agencyIDs["health"], userIDs[domain.RoleSpecialist], &res); err != nil {
		return res, err
	}
	filed, err := seedFiledByAgencies(ctx, g, svc, agencyIDs)
	if err != nil {
		return res, err
	}
	res.Created += filed
	// The showcase: the first case on the waiting list, with a known access code.
	var show struct {
		ID     string
		Number string
	}
	if err := g.Raw("SELECT id, number FROM cases WHERE applicant_name = ?", demoSurnames[1]+" "+demoNames[0]).Scan(&show).Error; err != nil {
		return res, err
	}
	if show.ID != "" {
		if err := cases.SetAccessCodeHash(ctx, show.ID, domain.HashAccessCode(show.ID, DemoAccessCode)); err != nil {
			return res, err
		}
	}
	res.ShowcaseID, res.ShowcaseNum = show.ID, show.Number
	return res, nil
}

func walkDemo(ctx context.Context, svc *domain.Service, actor domain.Actor, c *domain.Case, path []domain.EventName, facilities []string, clock *demoClock, n int) error {
	var err error
	for k, ev := range path {
		if next := clock.t.Add(stepAfter(ev, n)); next.Before(time.Now()) {
			clock.t = next
		}
		today := domain.DateOf(clock.t)
		if ev == domain.SubmitForReview {
			issued := today.AddDays(-20)
			for _, d := range c.Checklist {
				if !d.Required {
					continue
				}
				if c, err = svc.RecordDocument(ctx, actor, c.ID, d.Type, c.Version, domain.DocumentUpdate{Status: domain.DocReceived, IssuedOn: &issued, Note: "демо"}); err != nil {
					return err
				}
			}
		}
		cmd := domain.EventCommand{Event: ev, Comment: "демо-данные"}
		switch ev {
		case domain.Reject, domain.Discharge:
			cmd.Reason = "демо: причина"
		case domain.RecognizeNeed:
			d := today.AddDays(-3)
			cmd.IPPSUNumber, cmd.IPPSUDate = fmt.Sprintf("ИППСУ-%s-%d", c.Number, k), &d
		case domain.IssueVoucher:
			cmd.FacilityID = facilities[len(c.Number)%len(facilities)]
			cmd.SkipReason = "демо: путёвка вне очереди"
		case domain.StartLeave:
			d := today.AddDays(10)
			cmd.ReturnBy = &d
		case domain.RecordDeath:
			cmd.DateOfDeath = &today
		}
		if c, err = svc.Fire(ctx, actor, c.ID, c.Version, cmd); err != nil {
			return err
		}
	}
	return nil
}
