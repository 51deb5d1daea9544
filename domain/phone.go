package domain

import "strings"

// ParsePhone reads a phone number the way people type it ("8 916 123-45-67", "+7(916)1234567",
// "9161234567") and returns it in E.164 ("+79161234567"). Russian numbers may start with 8 or 7
// or leave the country code out; a foreign number must start with +. It is the one phone parser:
// the contact log, the blind index and the search all go through it, so the same number typed
// two ways is the same number.
func ParsePhone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	plus := strings.HasPrefix(s, "+")
	digits := make([]byte, 0, 16)
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' || r == '\u00a0':
		default:
			return "", false
		}
	}
	switch {
	case plus && len(digits) >= 8 && len(digits) <= 15 && digits[0] != '0':
		if digits[0] == '7' && len(digits) != 11 {
			return "", false
		}
		return "+" + string(digits), true
	case !plus && len(digits) == 11 && (digits[0] == '8' || digits[0] == '7'):
		return "+7" + string(digits[1:]), true
	case !plus && len(digits) == 10 && digits[0] != '0' && digits[0] != '8' && digits[0] != '7':
		return "+7" + string(digits), true
	}
	return "", false
}

// normalisePhone writes a phone given in a field as E.164; EINVALID naming the field when it is
// not a phone, or when it is required and empty.
func normalisePhone(field string, phone *string, required bool) error {
	if *phone == "" && !required {
		return nil
	}
	p, ok := ParsePhone(*phone)
	if !ok {
		return Invalid(field, "is not a phone number (for example 8 916 123-45-67 or +7 916 123-45-67)")
	}
	*phone = p
	return nil
}
