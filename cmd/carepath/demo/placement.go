package demo

import (
	"context"
	"fmt"
	"time"

	"carepath/domain"
	"carepath/store"
)

// The placement pages' demo (issue 17): a waiting list long enough to read, with priorities,
// recognition dates months apart, needs and preferences; and an offer of a freed bed declined
// by the applicant, so the offers inbox shows a refusal with its reason, the case's panel its
// refusal count, and the bed passed on to the next case, whose offer waits for an answer.

type demoWaiter struct {
	name      string
	gender    string
	priority  string
	bedridden bool
	// districts or homes (by name) preferred; none: any home of the type
	districts []string
	homes     []string
	// monthsAgo: when the need was recognised
	monthsAgo int
}

var demoWaiters = []demoWaiter{
	{"Белова Нина Васильевна", "female", "general", false, nil, nil, 9},
	{"Голубев Иван Андреевич", "male", "general", false, []string{"Бабушкинский"}, nil, 8},
	{"Виноградова Зоя Павловна", "female", "first_turn", true, nil, nil, 3},
	{"Богданова Лидия Юрьевна", "female", "general", false, nil, []string{"Пансионат «Ясенево»"}, 7},
	{"Тарасов Олег Петрович", "male", "out_of_turn", false, nil, nil, 1},
	{"Фёдорова Раиса Ильинична", "female", "urgent_social", false, []string{"Ясенево", "Бабушкинский"}, nil, 2},
	{"Жукова Вера Максимовна", "female", "general", false, nil, nil, 5},
	{"Комаров Пётр Семёнович", "male", "first_turn", false, []string{"Ясенево"}, nil, 4},
}

// seedPlacement adds the demo's waiting list of homes for the elderly and declines one offer.
// Running it again changes nothing: the waiting cases are looked up by name first, and the
// decline happens only while no offer was ever declined.
func seedPlacement(ctx context.Context, db *store.DB, svc *domain.Service, actor domain.Actor, healthOrgID, assigneeID string,
	res *DemoResult) error {
	g := db.Gorm.WithContext(ctx)
	homeIDs := map[string]string{}
	var homes []struct{ ID, Name string }
	if err := g.Raw("SELECT id::text, name FROM facilities WHERE type = ?", string(domain.ElderlyDisabled)).Scan(&homes).Error; err != nil {
		return fmt.Errorf("seed placement: %w", err)
	}
	for _, f := range homes {
		homeIDs[f.Name] = f.ID
	}
	for i, w := range demoWaiters {
		var existing int64
		if err := g.Raw("SELECT count(*) FROM cases WHERE applicant_name = ?", w.name).Scan(&existing).Error; err != nil {
			return err
		}
		if existing > 0 {
			res.Existing++
			continue
		}
		n := 200 + i
		// registered some months before the need was recognised, walked in that past
		clock := &demoClock{time.Now().AddDate(0, -(w.monthsAgo + 2), 0)}
		past := pastService(svc, clock)
		c, _, err := past.Register(ctx, actor, domain.NewCase{
			Channel: domain.Channels[n%len(domain.Channels)], FacilityType: domain.ElderlyDisabled,
			Applicant: domain.Applicant{FullName: w.name, BirthDate: domain.NewDate(1935+i, time.Month(1+i), 3+i), Gender: w.gender,
				SNILS: demoSNILS(n), Passport: fmt.Sprintf("45 %02d %06d", n%100, 100000+n), Address: fmt.Sprintf("Москва, Енисейская ул., д. %d", 1+i),
				LegalCapacity: domain.Capable, DisabilityGroup: []string{"none", "1", "2", "3"}[i%4]},
			Contacts: []domain.Contact{{Name: "Родственник " + w.name, Relation: "daughter", Phone: fmt.Sprintf("+7 916 200-%02d-%02d", i, i*3),
				ConsentToNotices: true, PreferredChannel: "sms"}},
			HealthOrgID: healthOrgID,
			AssigneeID:  assigneeID,
		})
		if err != nil {
			return fmt.Errorf("seed waiting case %s: %w", w.name, err)
		}
		if err := walkDemo(ctx, past, actor, c, demoPaths[domain.WaitingList], nil, clock, n); err != nil {
			return fmt.Errorf("seed waiting case %s: %w", w.name, err)
		}
		p := domain.Placement{Priority: w.priority, Bedridden: w.bedridden, Districts: w.districts}
		for _, name := range w.homes {
			p.FacilityIDs = append(p.FacilityIDs, homeIDs[name])
		}
		if _, err := svc.SetPlacement(ctx, actor, c.ID, 0, p); err != nil {
			return fmt.Errorf("seed placement of %s: %w", w.name, err)
		}
		// months on the list: the order and the relatives' wait read as they would in life
		if err := g.Exec("UPDATE cases SET recognized_at = now() - make_interval(months => ?) WHERE id = ?", w.monthsAgo, c.ID).Error; err != nil {
			return fmt.Errorf("seed recognition date of %s: %w", w.name, err)
		}
		res.Created++
	}

	var declined int64
	if err := g.Raw("SELECT count(*) FROM offers WHERE state = 'declined'").Scan(&declined).Error; err != nil {
		return fmt.Errorf("seed placement: %w", err)
	}
	if declined > 0 {
		return nil
	}
	var offerID string
	if err := g.Raw("SELECT id::text FROM offers WHERE state = 'proposed' ORDER BY proposed_at, id LIMIT 1").Scan(&offerID).Error; err != nil {
		return fmt.Errorf("seed placement: %w", err)
	}
	if offerID == "" {
		return nil
	}
	if _, err := svc.DeclineOffer(ctx, actor, offerID, domain.OfferDecline{Reason: "applicant_refused"}); err != nil {
		return fmt.Errorf("seed placement: decline offer %s: %w", offerID, err)
	}
	return nil
}
