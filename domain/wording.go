package domain

// Gender is the grammatical gender a Russian word agrees with: of the applicant (a person's
// sex) or of a document's name.
type Gender string

// Genders.
const (
	Masculine Gender = "masculine"
	Feminine  Gender = "feminine"
	Neuter    Gender = "neuter"
)

// GenderOf is the grammatical gender of an applicant of the given sex ("female" or "male", as
// the case records it); a case without one is spoken of in the masculine, as Russian forms do.
func GenderOf(sex string) Gender {
	if sex == "female" {
		return Feminine
	}
	return Masculine
}

// Agree picks the form of a word for a gender: masculine, feminine, neuter.
func (g Gender) Agree(m, f, n string) string {
	switch g {
	case Feminine:
		return f
	case Neuter:
		return n
	}
	return m
}

// DocStatusWord says where a document stands in words that agree with its name: «паспорт не
// представлен», «справка не представлена», «заключение не представлено».
func DocStatusWord(t DocType, st DocStatus) string {
	g := docIndex[t].Gender
	switch st {
	case DocMissing:
		return g.Agree("не представлен", "не представлена", "не представлено")
	case DocRequested:
		return g.Agree("запрошен, но не получен", "запрошена, но не получена", "запрошено, но не получено")
	case DocReceived:
		return g.Agree("получен", "получена", "получено")
	case DocRejected:
		return g.Agree("отклонён", "отклонена", "отклонено")
	case DocExpired:
		return "срок действия истёк"
	}
	return string(st)
}

// documentReason is a guard's reason about one document that holds an event up.
func documentReason(t DocType, st DocStatus, validUntil *Date) Reason {
	label := docIndex[t].Label
	if st == DocExpired && validUntil != nil {
		return Reason{Code: "document_expired", Field: "documents." + string(t),
			Message: "«" + label + "»: срок действия истёк " + validUntil.Russian(),
			english: "document " + string(t) + " expired on " + validUntil.String()}
	}
	return Reason{Code: "document_" + string(st), Field: "documents." + string(t),
		Message: "«" + label + "» — " + DocStatusWord(t, st), english: "document " + string(t) + " is " + string(st)}
}

// relativeWording is how the status page names a state to a relative: in words agreeing with
// the applicant's sex (masculine, feminine), gently where the news is hard.
type relativeWording struct {
	title [2]string
}

// relativeWordings names every state a relative can see (all of them: a closed case can be
// looked up too).
var relativeWordings = map[State]relativeWording{
	Intake:              {[2]string{"Заявление зарегистрировано", "Заявление зарегистрировано"}},
	CollectingDocuments: {[2]string{"Сбор документов", "Сбор документов"}},
	UnderReview:         {[2]string{"Заявление на рассмотрении", "Заявление на рассмотрении"}},
	Rejected:            {[2]string{"В признании нуждающимся отказано", "В признании нуждающимся отказано"}},
	WaitingList:         {[2]string{"Очередь на путёвку", "Очередь на путёвку"}},
	VoucherIssued:       {[2]string{"Путёвка выдана", "Путёвка выдана"}},
	Residing:            {[2]string{"Проживает в учреждении", "Проживает в учреждении"}},
	OnLeave:             {[2]string{"Временно выбыл из учреждения", "Временно выбыла из учреждения"}},
	Hospitalized:        {[2]string{"Госпитализирован", "Госпитализирована"}},
	TransferPending:     {[2]string{"Ожидает перевода в другое учреждение", "Ожидает перевода в другое учреждение"}},
	Discharged:          {[2]string{"Выбыл из учреждения", "Выбыла из учреждения"}},
	Deceased:            {[2]string{"Скончался", "Скончалась"}},
	Withdrawn:           {[2]string{"Заявление отозвано", "Заявление отозвано"}},
}

// RelativeStateLabel is the state's name on the relatives' status page, agreeing with the
// applicant's gender.
func RelativeStateLabel(st State, g Gender) string {
	w, ok := relativeWordings[st]
	if !ok {
		return ""
	}
	if g == Feminine {
		return w.title[1]
	}
	return w.title[0]
}

// whereToGet says where a family gets each kind of document, by who issues it (DocTypeDef's
// Supplier), with a few documents of their own.
var (
	whereBySupplier = map[string]string{
		"applicant":         "Документ заявителя: принесите оригинал в МФЦ или в координационный центр",
		"health":            "В медицинской организации, где наблюдается заявитель (поликлиника или больница)",
		"guardianship":      "В органе опеки и попечительства по месту жительства",
		"court":             "В суде, вынесшем решение: заверенная копия решения",
		"social_protection": "В отделе социальной защиты населения по месту жительства или через МФЦ",
	}
	whereByDocument = map[DocType]string{
		DocSNILS:                 "Если СНИЛС утерян: в отделении Социального фонда или в МФЦ",
		DocDisabilityCertificate: "В бюро медико-социальной экспертизы (МСЭ); копию выдаёт и МФЦ",
		DocResidenceProof:        "В МФЦ или паспортном столе: выписка о регистрации по месту жительства",
		DocApplication:           "Заполняется в МФЦ или в координационном центре при подаче",
	}
)

// WhereToGet says where to get a document.
func WhereToGet(t DocType) string {
	if w, ok := whereByDocument[t]; ok {
		return w
	}
	return whereBySupplier[docIndex[t].Supplier]
}

// EstimateTooFewWording is why a relative sees no wait estimate: the case's list segment had
// fewer than EstimateMinAdmissions admissions in the last EstimatePeriodMonths months (wait.go).
const EstimateTooFewWording = "За последние 12 месяцев из этой очереди в учреждения поступило меньше 6 человек: по такому числу срок ожидания честно не оценить. Место в очереди показано выше."
