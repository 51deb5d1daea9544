package domain

import (
	"encoding/json"
	"unicode/utf8"
)

// AppendJSONString appends s quoted as encoding/json quotes it, for the hand-written encoders
// of the hot paths: a string that needs no escaping by its rules (no control characters,
// quotes, backslashes, <, >, &, U+2028, U+2029 or invalid UTF-8) is copied; any other is left
// to encoding/json.
func AppendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&':
			return appendMarshalledString(b, s)
		case c == 0xe2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9): // U+2028, U+2029
			return appendMarshalledString(b, s)
		}
	}
	if !utf8.ValidString(s) {
		return appendMarshalledString(b, s)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendMarshalledString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}
