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
