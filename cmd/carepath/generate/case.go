package generate

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"carepath/domain"
)

type generatedCase struct {
	c       *domain.Case
	history []domain.HistoryEntry
}

var (
	genSurnames = []string{"Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков",
		"Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев",
		"Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов",
		"Воробьёв", "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв", "Ильин", "Максимов",
		"Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев", "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов",
		"Комаров", "Давыдов", "Беляев", "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков", "Миронов",
		"Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов", "Тихонов", "Казаков", "Афанасьев", "Данилов",
		"Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов", "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин",
		"Исаев", "Чернышёв", "Быков", "Маслов", "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов", "Пономарёв",
		"Голубев", "Кудрявцев", "Прохоров", "Наумов", "Потапов", "Журавлёв", "Овчинников", "Трофимов", "Леонов", "Соболев",
		"Ермаков", "Колесников", "Гончаров", "Емельянов", "Никифоров", "Грачёв", "Котов", "Гришин", "Ефремов", "Архипов",
		"Громов", "Кириллов", "Малышев", "Панов", "Моисеев", "Румянцев", "Акимов", "Кондратьев", "Бирюков", "Горбунов",
		"Анисимов", "Ерёмин", "Тихомиров", "Галкин", "Лукьянов", "Михеев", "Скворцов", "Юдин", "Белоусов", "Нестеров",
		"Симонов", "Прокофьев", "Харитонов", "Князев", "Цветков", "Левин", "Митрофанов", "Воронов", "Аксёнов", "Софронов",
		"Мальцев", "Логинов", "Горшков", "Савин", "Краснов", "Майоров", "Демидов", "Елисеев", "Рыбаков", "Сафонов"}
	genMaleNames = []string{"Александр", "Алексей", "Анатолий", "Андрей", "Борис", "Валентин", "Валерий", "Василий", "Виктор",
		"Владимир", "Вячеслав", "Геннадий", "Георгий", "Григорий", "Дмитрий", "Евгений", "Иван", "Игорь", "Леонид", "Михаил",
		"Николай", "Олег", "Павел", "Пётр", "Сергей", "Станислав", "Юрий", "Яков"}
	genFemaleNames = []string{"Александра", "Алла", "Анна", "Антонина", "Валентина", "Вера", "Галина", "Евгения", "Екатерина",
		"Елена", "Зинаида", "Зоя", "Клавдия", "Лариса", "Лидия", "Любовь", "Людмила", "Маргарита", "Мария", "Надежда", "Наталья",
		"Нина", "Ольга", "Раиса", "Светлана", "Тамара", "Татьяна", "Эльвира"}
	// father's names: male patronymic, female patronymic
	genPatronymics = [][2]string{{"Александрович", "Александровна"}, {"Алексеевич", "Алексеевна"}, {"Андреевич", "Андреевна"},
		{"Борисович", "Борисовна"}, {"Васильевич", "Васильевна"}, {"Викторович", "Викторовна"}, {"Владимирович", "Владимировна"},
		{"Георгиевич", "Георгиевна"}, {"Григорьевич", "Григорьевна"}, {"Дмитриевич", "Дмитриевна"}, {"Евгеньевич", "Евгеньевна"},
		{"Иванович", "Ивановна"}, {"Ильич", "Ильинична"}, {"Константинович", "Константиновна"}, {"Леонидович", "Леонидовна"},
		{"Михайлович", "Михайловна"}, {"Николаевич", "Николаевна"}, {"Павлович", "Павловна"}, {"Петрович", "Петровна"},
		{"Семёнович", "Семёновна"}, {"Сергеевич", "Сергеевна"}, {"Степанович", "Степановна"}, {"Фёдорович", "Фёдоровна"},
		{"Яковлевич", "Яковлевна"}}
	genStreets = []string{"ул. Менжинского", "Ярославское ш.", "ул. Бориса Галушкина", "Профсоюзная ул.", "ул. Лобачевского",
		"Каширское ш.", "ул. Вавилова", "Ленинский пр-т", "ул. Удальцова", "Щёлковское ш.", "ул. Молодцова", "Рязанский пр-т",
		"ул. Кржижановского", "Волгоградский пр-т", "ул. Народного Ополчения", "Дмитровское ш.", "ул. Фабрициуса", "Алтуфьевское ш."}
	genRelations = []string{"son", "daughter", "niece", "nephew", "grandson", "granddaughter", "sister", "brother", "neighbour"}
	genComments  = []string{"", "", "", "по телефону", "по заявлению родственников", "документы переданы курьером", "согласовано с руководителем"}
)

func pick[T any](r *mrand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func femaleSurname(s string) string {
	switch {
	case strings.HasSuffix(s, "ий"):
		return strings.TrimSuffix(s, "ий") + "ая"
	case strings.HasSuffix(s, "ых"), strings.HasSuffix(s, "ко"), strings.HasSuffix(s, "ук"), strings.HasSuffix(s, "ич"):
		return s
	default:
		return s + "а"
	}
}

// Surnames have a long tail: a few are very common, most are rare. The common ones come from
// genSurnames (the first ones most often); the tail is composed from syllables.
var (
	genOnsets = []string{"Б", "В", "Г", "Д", "Ж", "З", "К", "Л", "М", "Н", "П", "Р", "С", "Т", "Ф", "Х", "Ч", "Ш",
		"Бр", "Гр", "Кр", "Пр", "Тр", "Ст", "Сл", "См", "Шм", "Дв"}
	genVowels = []string{"а", "о", "у", "е", "и", "ы", "я"}
	genCodas  = []string{"л", "н", "р", "в", "к", "т", "ш", "д", "с", "м", "ч", "г", "б", "з", "ст", "рт"}
	genEnds   = []string{"ов", "ев", "ин", "ышев", "ков", "ников", "енков", "ский", "цкий", "ых", "енко", "ук", "ович", "анов"}
)

func surname(r *mrand.Rand) string {
	if r.Float64() < 0.4 {
		u := r.Float64()
		return genSurnames[int(u*u*float64(len(genSurnames)))]
	}
	return pick(r, genOnsets) + pick(r, genVowels) + pick(r, genCodas) + pick(r, genEnds)
}

// snilsOf makes a SNILS with a valid checksum from a number above the checksum-free range.
func snilsOf(n uint64) string { return domain.MakeSNILS(int(2000000 + n%997000000)) }

func phone(r *mrand.Rand) string {
	return fmt.Sprintf("+7 9%02d %03d-%02d-%02d", 10+r.IntN(90), r.IntN(1000), r.IntN(100), r.IntN(100))
}

// caseID is a UUIDv7 of the creation time: ids then grow with the sequence, which keeps the
// primary key and history indexes append-mostly during the load.
func caseID(created time.Time) string {
	var u uuid.UUID
	_, _ = rand.Read(u[6:])
	ms := uint64(created.UnixMilli())
	binary.BigEndian.PutUint16(u[4:6], uint16(ms))
	binary.BigEndian.PutUint32(u[0:4], uint32(ms>>16))
	u[6] = 0x70 | (u[6] & 0x0F)
	u[8] = 0x80 | (u[8] & 0x3F)
	return u.String()
}

// generate builds one case from its plan: the facts, then the path step by step with its
// effects, history line and deadlines, then the documents its state implies.
func (g *generator) generate(p *casePlan) (*generatedCase, error) {
	rt, r := g.route(p.index)
	created := rt.created
	settings, cal := g.opt.Settings, g.opt.Calendar
	female := r.Float64() < 0.66
	family := surname(r)
	pat := pick(r, genPatronymics)
	name := family + " " + pick(r, genMaleNames) + " " + pat[0]
	gender := "male"
	if female {
		name = femaleSurname(family) + " " + pick(r, genFemaleNames) + " " + pat[1]
		gender = "female"
	}
	birthFrom, birthSpan := 1925, 40
	if rt.facilityType == domain.Psychoneurological {
		birthFrom, birthSpan = 1945, 55
	}
	capacity := domain.Capable
	switch x := r.Float64(); {
	case rt.facilityType == domain.Psychoneurological && x < 0.55:
		capacity = domain.Incapacitated
	case rt.facilityType == domain.Psychoneurological && x < 0.65, x < 0.03:
		capacity = domain.Limited
	case x < 0.07:
		capacity = domain.Incapacitated
	}
	disability := []string{"none", "none", "none", "1", "1", "2", "2", "2", "3", "3"}[r.IntN(10)]
	channel := domain.ChannelMFC
	switch x := r.Float64(); {
	case x < 0.15:
		channel = domain.ChannelHotline
	case x < 0.35:
		channel = domain.ChannelOnline
	case x < 0.40:
		channel = domain.ChannelPostOffice
	case x < 0.45:
		channel = domain.ChannelOutreach
	}
	district := r.IntN(len(genDistricts))
	c := &domain.Case{
		ID: caseID(created), Number: domain.CaseNumber(created.In(domain.Moscow).Year(), int(p.number)),
		State: domain.Intake, Version: 1, Channel: channel, FacilityType: rt.facilityType,
		Applicant: domain.Applicant{FullName: name,
			BirthDate: domain.NewDate(birthFrom+r.IntN(birthSpan), time.Month(1+r.IntN(12)), 1+r.IntN(28)), Gender: gender,
			SNILS: snilsOf(r.Uint64()), Passport: fmt.Sprintf("45 %02d %06d", r.IntN(100), r.IntN(1000000)),
			Address:       fmt.Sprintf("Москва, %s, д. %d, кв. %d", pick(r, genStreets), 1+r.IntN(120), 1+r.IntN(300)),
			LegalCapacity: capacity, DisabilityGroup: disability},
		HealthOrgID:    g.health[district],
		StateEnteredAt: created, CreatedAt: created, UpdatedAt: created,
	}
	nContacts := 1 + r.IntN(2)
	if r.Float64() < 0.1 {
		nContacts = 0 // lonely people found by outreach
	}
	for k := 0; k < nContacts; k++ {
		rel := pick(r, genRelations)
		ct := domain.Contact{Name: surname(r) + " " + pick(r, genMaleNames), Relation: rel, Phone: phone(r),
			ConsentToNotices: r.Float64() < 0.85, PreferredChannel: "sms"}
		if strings.HasSuffix(rel, "ter") || rel == "niece" || rel == "sister" {
			ct.Name = femaleSurname(surname(r)) + " " + pick(r, genFemaleNames)
		}
		if r.Float64() < 0.4 {
			ct.Email = fmt.Sprintf("relative%d@example.org", r.IntN(10000000))
			if r.Float64() < 0.3 {
				ct.PreferredChannel = "email"
			}
		}
		if k == 0 && capacity != domain.Capable {
			ct.LegalRepresentative = true
			ct.Relation = "guardian"
		}
		c.Contacts = append(c.Contacts, ct)
	}
	if c.Contacts == nil {
		c.Contacts = []domain.Contact{}
	}
	if capacity == domain.Incapacitated {
		c.GuardianshipID = g.guardianship[district]
	}
	specialist := g.specialists[r.IntN(len(g.specialists))]
	if r.Float64() < 0.92 {
		c.AssigneeID = specialist.id
	}
	c.AccessCodeHash = domain.HashAccessCode(c.ID, AccessCode(c.Number))
	c.Checklist = domain.BuildChecklist(c)

	registrar := domain.Actor{ID: specialist.id, Name: specialist.name, Kind: "user", Role: "specialist"}
	if channel == domain.ChannelMFC {
		// The service center filed it: it is a party to the case (domain.PartyTo).
		registrar = domain.Actor{ID: g.mfc[district], Name: "МФЦ района " + genDistricts[district], Kind: "agency", Role: "mfc"}
		c.FiledByAgencyID = registrar.ID
	}
	gc := &generatedCase{c: c, history: make([]domain.HistoryEntry, 0, len(rt.steps)+1)}
	gc.history = append(gc.history, domain.HistoryEntry{Version: 1, Event: "register", To: domain.Intake, ActorID: registrar.ID,
		ActorName: registrar.Name, ActorRole: registrar.Role, At: created, Payload: map[string]any{"channel": channel}})

	actor := domain.Actor{ID: specialist.id, Name: specialist.name, Kind: "user", Role: "specialist"}
	// Homes: the beds counted by plan are the ordinals bed (and bed+1 for a move under way);
	// each admission's home is an ordinal next to the following one, so that consecutive homes
	// differ. Cases holding no bed at the end get homes anywhere.
	admits := 0
	for _, s := range rt.steps {
		if s.event == domain.Admit {
			admits++
		}
	}
	last := int(p.bed)
	switch {
	case p.bed < 0:
		last = r.IntN(1 << 20)
	case rt.beds == 2:
		last = int(p.bed) + 1
	}
	admitHome := func(j int) string { return g.facilityOf(c.FacilityType, last+admits-1-j) }
	admitted := 0
	docsRecorded := false
	for k, s := range rt.steps {
		from := c.State
		to := dest(from, s)
		def, _ := domain.LookupEvent(s.event)
		if !slices.Contains(def.Sources, from) {
			return nil, fmt.Errorf("generate: case %s: %s is not allowed from %s", c.Number, s.event, from)
		}
		now := s.at
		today := domain.DateOf(now)
		payload := map[string]any{}
		who := actor
		comment := pick(r, genComments)
		switch s.event {
		case domain.SubmitForReview:
			if !docsRecorded {
				g.receiveAll(r, c, now)
				docsRecorded = true
			}
		case domain.ReturnForDocuments, domain.Reject:
			payload["reason"] = map[domain.EventName]string{
				domain.ReturnForDocuments: "медицинская карта оформлена не полностью",
				domain.Reject:             "нет оснований для признания нуждающимся"}[s.event]
		case domain.RecognizeNeed:
			d := today.AddDays(-r.IntN(3))
			c.IPPSU = &domain.IPPSU{Number: fmt.Sprintf("ИППСУ-%d-%07d", d.Year(), r.IntN(10000000)), Date: d}
			payload["ippsu_number"], payload["ippsu_date"] = c.IPPSU.Number, c.IPPSU.Date.String()
		case domain.IssueVoucher:
			// A voucher needs medical documents that will still be valid on admission.
			valid := today.AddDays(settings.VoucherValidDays)
			g.refreshMedical(r, c, now, valid)
			var f string
			switch {
			case k+1 < len(rt.steps) && rt.steps[k+1].event == domain.CancelVoucher:
				f = g.facilityOf(c.FacilityType, r.IntN(1<<20)) // it will lapse: any home of the type
			case admitted < admits:
				f = admitHome(admitted)
			case p.bed >= 0: // the voucher still pending, holding its bed
				f = g.facilityOf(c.FacilityType, int(p.bed))
			default: // a voucher given back when the case was withdrawn
				f = g.facilityOf(c.FacilityType, r.IntN(1<<20))
			}
			c.VoucherFacilityID, c.VoucherValidUntil = f, &valid
			payload["facility_id"], payload["valid_until"] = f, valid.String()
		case domain.SignContract:
			payload["contract_number"], payload["signed_on"] = fmt.Sprintf("Д-%d-%06d", today.Year(), r.IntN(1000000)), today.String()
			payload["facility_id"] = c.VoucherFacilityID
		case domain.ReviewIPPSU:
			payload["previous_ippsu_number"], payload["previous_ippsu_date"] = c.IPPSU.Number, c.IPPSU.Date.String()
			c.IPPSU = &domain.IPPSU{Number: fmt.Sprintf("ИППСУ-%d-%07d", today.Year(), r.IntN(10000000)), Date: today}
			payload["ippsu_number"], payload["ippsu_date"] = c.IPPSU.Number, c.IPPSU.Date.String()
		case domain.CancelVoucher:
			payload["released_facility_id"] = c.VoucherFacilityID
			c.VoucherFacilityID, c.VoucherValidUntil = "", nil
			if s.system {
				who, comment = domain.System, "путёвка не использована в срок"
			}
		case domain.Admit:
			if c.FacilityID != "" {
				payload["previous_facility_id"] = c.FacilityID
			}
			c.FacilityID, c.VoucherFacilityID, c.VoucherValidUntil = c.VoucherFacilityID, "", nil
			admitted++
			payload["facility_id"], payload["admitted_on"] = c.FacilityID, today.String()
		case domain.StartLeave:
			ret := today.AddDays(3 + r.IntN(settings.MaxLeaveDays-2))
			if k == len(rt.steps)-1 { // still on leave: the planned return is not before now, mostly
				ret = domain.DateOf(g.opt.Now).AddDays(r.IntN(settings.MaxLeaveDays / 2))
				if r.Float64() < 0.1 {
					ret = domain.DateOf(g.opt.Now).AddDays(-1 - r.IntN(5)) // late back
				}
				if ret.After(today.AddDays(settings.MaxLeaveDays)) {
					ret = today.AddDays(settings.MaxLeaveDays)
				}
				if !ret.After(today) {
					ret = today.AddDays(1)
				}
			}
			c.LeaveReturnBy = &ret
			payload["return_by"] = ret.String()
		case domain.EndLeave, domain.Hospitalize:
			c.LeaveReturnBy = nil
		case domain.Discharge:
			payload["reason"] = pick(r, []string{"по личному заявлению", "переезд к родственникам", "перевод в медицинскую организацию"})
			payload["released_facility_id"] = c.FacilityID
		case domain.RecordDeath:
			payload["date_of_death"] = today.String()
			payload["released_facility_id"] = c.FacilityID
		case domain.Withdraw:
			if from == domain.CollectingDocuments {
				g.receiveSome(r, c, c.StateEnteredAt, now)
			}
			if c.VoucherFacilityID != "" {
				payload["released_facility_id"] = c.VoucherFacilityID
				c.VoucherFacilityID, c.VoucherValidUntil = "", nil
			}
			comment = "заявление отозвано заявителем"
		}
		if to != from {
			c.StateEnteredAt = now
		}
		c.State, c.UpdatedAt = to, now
		c.Version++
		keep, opened, _ := domain.DeadlinesAfter(settings, cal, c, s.event, from, to, now)
		c.Deadlines = append(keep, opened...)
		gc.history = append(gc.history, domain.HistoryEntry{Version: c.Version, Event: string(s.event), From: from, To: to,
			ActorID: who.ID, ActorName: who.Name, ActorRole: who.Role, Comment: comment, Payload: payload, At: now})
	}
	if c.State == domain.CollectingDocuments {
		g.receiveSome(r, c, c.StateEnteredAt, g.opt.Now)
	}
	if got := c.State; got != p.state {
		return nil, fmt.Errorf("generate: case %s ended in %s, planned %s", c.Number, got, p.state)
	}
	return gc, nil
}

// receiveAll records every required document as received before a submission for review;
// medical ones issued within the last two months, so valid at submission.
func (g *generator) receiveAll(r *mrand.Rand, c *domain.Case, at time.Time) {
	for i := range c.Checklist {
		d := &c.Checklist[i]
		if !d.Required {
			continue
		}
		issued := domain.DateOf(at.Add(-between(r, day, 60*day)))
		g.receive(c, d, issued, at)
	}
}

// receiveSome records part of the documents while they are being collected, between two times.
func (g *generator) receiveSome(r *mrand.Rand, c *domain.Case, from, until time.Time) {
	for i := range c.Checklist {
		d := &c.Checklist[i]
		switch x := r.Float64(); {
		case x < 0.45:
			at := from.Add(between(r, 0, until.Sub(from)))
			g.receive(c, d, domain.DateOf(at.Add(-between(r, 0, 30*day))), at)
		case x < 0.8:
			d.Status = domain.DocRequested
		}
	}
}

// refreshMedical re-records expiring documents that would lapse before the given day.
func (g *generator) refreshMedical(r *mrand.Rand, c *domain.Case, at time.Time, until domain.Date) {
	for i := range c.Checklist {
		d := &c.Checklist[i]
		if _, expires := g.opt.Settings.Validity[d.Type]; !expires || d.ValidUntil == nil || !d.ValidUntil.Before(until) {
			continue
		}
		issued := domain.DateOf(at.Add(-between(r, day, 20*day)))
		g.receive(c, d, issued, at.Add(-time.Hour))
	}
}

func (g *generator) setReceived(d *domain.Document, issued domain.Date) {
	d.Status, d.IssuedOn, d.ValidUntil = domain.DocReceived, &issued, nil
	if months, ok := g.opt.Settings.Validity[d.Type]; ok {
		v := issued.AddMonths(months)
		d.ValidUntil = &v
	}
}

// receive records a document as RecordDocument does: an expiring one recorded before admission
// (re)opens its expiry deadline.
func (g *generator) receive(c *domain.Case, d *domain.Document, issued domain.Date, at time.Time) {
	g.setReceived(d, issued)
	keep := c.Deadlines[:0:0]
	for _, dl := range c.Deadlines {
		if dl.Kind == domain.DeadlineDocumentExpiry && dl.Ref == string(d.Type) {
			continue
		}
		keep = append(keep, dl)
	}
	c.Deadlines = keep
	if d.ValidUntil != nil && domain.ExpiringInPreAdmission(c.State) {
		c.Deadlines = append(c.Deadlines, domain.DocumentExpiryDeadline(d.Type, *d.ValidUntil, at))
	}
}
