package domain

import (
	"strings"
	"unicode"
)

// ParseCaseNumber reads a case number as people type it and returns it in its one spelling
// (KC-YYYY-NNNNNN). It is the one parser for every place a number is typed (the status lookup,
// the console's search, the API's q): a Russian keyboard gives Cyrillic К and С, which look the
// same as the Latin ones; phones put spaces, typographic dashes or none at all; lower case is
// common; the leading zeros of the year's place may be left out when the year is set apart
// ("кс 2026 5"). Without a separator between them, the year is the first four digits. ok is
// false for anything else (a name, a partial number).
func ParseCaseNumber(s string) (string, bool) {
	if ValidCaseNumber(s) {
		return s, true // the common case, without allocating
	}
	s = strings.TrimFunc(s, isNumberSeparator)
	prefix := 0
	var groups [3]string
	n := 0
	for i, r := range s {
		if prefix < 2 {
			want := [2]rune{'K', 'C'}[prefix]
			if lookAlike(r) != want {
				return "", false
			}
			prefix++
			continue
		}
		if isNumberSeparator(r) {
			continue
		}
		if r < '0' || r > '9' {
			return "", false
		}
		// A digit: it extends the current group when the previous rune was a digit.
		if n > 0 && i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
			groups[n-1] += string(r)
			continue
		}
		if n == len(groups) {
			return "", false
		}
		groups[n] = string(r)
		n++
	}
	var year, seq string
	switch {
	case prefix < 2:
		return "", false
	case n == 1 && len(groups[0]) > 4 && len(groups[0]) <= 10:
		year, seq = groups[0][:4], groups[0][4:]
	case n == 2 && len(groups[0]) == 4 && len(groups[1]) <= 6:
		year, seq = groups[0], groups[1]
	default:
		return "", false
	}
	out := caseNumberPrefix + year + "-" + strings.Repeat("0", 6-len(seq)) + seq
	return out, ValidCaseNumber(out)
}

// lookAlike maps the letters of the prefix as typed to the Latin capitals: Cyrillic К and С,
// either case.
func lookAlike(r rune) rune {
	switch r {
	case 'K', 'k', 'К', 'к':
		return 'K'
	case 'C', 'c', 'С', 'с':
		return 'C'
	}
	return r
}

// isNumberSeparator: what people put between the parts of a number: spaces of any kind and
// dashes of any kind (hyphen, non-breaking hyphen, en and em dashes, minus).
func isNumberSeparator(r rune) bool {
	return unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) || r == '−' || r == '_'
}
