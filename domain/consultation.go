package domain

import "fmt"

// The consultation "which documents do I need?" (issue 18): a caller with no case yet tells what
// they know, and gets the checklist the very same rules would build for a case with those facts
// (RequiredDocuments, BuildChecklist), each document with where it is obtained, how long it stays
// valid and why it is needed.

// ChecklistQuestion is what a caller knows about the person who needs a place.
type ChecklistQuestion struct {
	FacilityType    FacilityType  `json:"facility_type"`
	LegalCapacity   LegalCapacity `json:"legal_capacity"`
	DisabilityGroup string        `json:"disability_group"`
	// Represented: someone applies on the person's behalf (a relative with a power of attorney,
	// a guardian).
	Represented bool `json:"represented"`
}

// DocumentAdvice is one document of the consultation, in plain Russian.
type DocumentAdvice struct {
	Type  DocType `json:"type"`
	Title string  `json:"title"`
	// WhereObtained says who issues it and where.
	WhereObtained string `json:"where_obtained"`
	// ValidMonths is how long it stays valid after issue; 0: it does not expire.
	ValidMonths int    `json:"valid_months"`
	Validity    string `json:"validity"`
	WhyNeeded   string `json:"why_needed"`
}

// ChecklistAdvice is the consultation's answer.
type ChecklistAdvice struct {
	Documents []DocumentAdvice `json:"documents"`
}

// docGuide is where each document is obtained and why it is needed: with the labels of DocTypes,
// the Russian catalogue of the documents (a test checks that every type has its entry).
var docGuide = map[DocType]struct{ where, why string }{
	DocApplication: {"Заполняется при подаче: в МФЦ «Мои документы», в координационном центре или в отделении почты",
		"Без заявления решение о предоставлении социальных услуг не принимается"},
	DocPassport: {"Есть у заявителя; при подаче снимают копию",
		"Удостоверяет личность человека, которому нужно место"},
	DocSNILS: {"Есть у заявителя; если утерян — Социальный фонд России или МФЦ",
		"Нужен для учёта в системе социального обслуживания"},
	DocMedicalCard: {"Поликлиника по месту жительства: врачебная комиссия",
		"Врачебная комиссия указывает, какой тип учреждения подходит по состоянию здоровья"},
	DocNoContraindications: {"Поликлиника по месту жительства",
		"Подтверждает, что нет медицинских противопоказаний к проживанию в учреждении (приказ Минздрава № 202н)"},
	DocIncomeCertificate: {"Социальный фонд России (справка о размере пенсии) или МФЦ",
		"Плата за проживание — не больше 75 % среднедушевого дохода (442-ФЗ, ст. 32)"},
	DocResidenceProof: {"Паспорт с отметкой о регистрации или выписка из домовой книги (МФЦ)",
		"Подтверждает место жительства заявителя"},
	DocRepresentativeAuthority: {"Нотариус (доверенность) или орган опеки (акт о назначении опекуна)",
		"Подтверждает право представителя подавать документы за заявителя"},
	DocDisabilityCertificate: {"Бюро медико-социальной экспертизы (МСЭ)",
		"Подтверждает группу инвалидности"},
	DocRehabilitationProgramme: {"Бюро медико-социальной экспертизы (МСЭ), выдаётся вместе со справкой",
		"Показывает, какая помощь и реабилитация нужна человеку"},
	DocPsychiatricCommission: {"Психоневрологический диспансер: врачебная комиссия с участием психиатра",
		"Без заключения психиатра направление в психоневрологический интернат невозможно"},
	DocIncapacityRuling: {"Суд, вынесший решение (заверенная копия)",
		"Подтверждает недееспособность человека; заявление за него подаёт опекун"},
	DocGuardianshipDecision: {"Орган опеки и попечительства по месту жительства",
		"Орган опеки решает, может ли недееспособный человек быть помещён в учреждение"},
}

// months writes "1 месяц", "3 месяца", "6 месяцев".
func months(n int) string {
	word := "месяцев"
	switch {
	case n%100 >= 11 && n%100 <= 14:
	case n%10 == 1:
		word = "месяц"
	case n%10 >= 2 && n%10 <= 4:
		word = "месяца"
	}
	return fmt.Sprintf("%d %s", n, word)
}

// validate checks the question; the disability group defaults to none.
func (q *ChecklistQuestion) validate() error {
	if err := oneOf("facility_type", q.FacilityType, FacilityTypes); err != nil {
		return err
	}
	if err := oneOf("legal_capacity", q.LegalCapacity, LegalCapacities); err != nil {
		return err
	}
	if q.DisabilityGroup == "" {
		q.DisabilityGroup = "none"
	}
	return oneOf("disability_group", q.DisabilityGroup, DisabilityGroups)
}

// factsOf is a case with only the facts the question gives: the checklist rules read nothing
// else.
func (q ChecklistQuestion) factsOf() *Case {
	c := &Case{FacilityType: q.FacilityType,
		Applicant: Applicant{LegalCapacity: q.LegalCapacity, DisabilityGroup: q.DisabilityGroup}}
	if q.Represented {
		c.Contacts = []Contact{{LegalRepresentative: true}}
	}
	return c
}

// PreviewChecklist answers the consultation: the checklist BuildChecklist builds for a case with
// these facts, each document explained.
func PreviewChecklist(s Settings, q ChecklistQuestion) (ChecklistAdvice, error) {
	if err := q.validate(); err != nil {
		return ChecklistAdvice{}, err
	}
	out := ChecklistAdvice{Documents: []DocumentAdvice{}}
	for _, d := range BuildChecklist(q.factsOf()) {
		g := docGuide[d.Type]
		a := DocumentAdvice{Type: d.Type, Title: docIndex[d.Type].Label, WhereObtained: g.where, WhyNeeded: g.why,
			ValidMonths: s.Validity[d.Type], Validity: "Срок действия не ограничен"}
		if a.ValidMonths > 0 {
			a.Validity = "Действует " + months(a.ValidMonths) + " со дня выдачи: получайте ближе к подаче"
		}
		out.Documents = append(out.Documents, a)
	}
	return out, nil
}
