package domain

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// The hot paths' hand-written JSON encoders (the status view and the case view in api, the
// checklist column in store) append with these: the bytes encoding/json writes, without its
// reflection.

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

// AppendJSON appends the date as its MarshalJSON writes it: "2006-01-02", or null for the zero
// date.
func (d Date) AppendJSON(b []byte) []byte {
	if d.IsZero() {
		return append(b, "null"...)
	}
	y, m, day := d.t.Date()
	if y < 0 || y > 9999 {
		return append(d.t.AppendFormat(append(b, '"'), time.DateOnly), '"')
	}
	// "YYYY-MM-DD" by hand: time.Format parses its layout on every call
	return append(b, '"', byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+day/10), byte('0'+day%10), '"')
}

// AppendJSONArray appends items as a JSON array, each by appendItem; null for a nil slice, as
// encoding/json writes it.
func AppendJSONArray[T any](b []byte, items []T, appendItem func([]byte, *T) []byte) []byte {
	if items == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendItem(b, &items[i])
	}
	return append(b, ']')
}

// AppendJSONChecklist appends documents as json.Marshal writes them (null for nil).
func AppendJSONChecklist(b []byte, docs []Document) []byte {
	return AppendJSONArray(b, docs, appendJSONDocument)
}

func appendJSONDocument(b []byte, d *Document) []byte {
	b = append(b, `{"type":`...)
	b = AppendJSONString(b, string(d.Type))
	b = append(b, `,"status":`...)
	b = AppendJSONString(b, string(d.Status))
	if d.Required {
		b = append(b, `,"required":true`...)
	} else {
		b = append(b, `,"required":false`...)
	}
	b = append(b, `,"supplier":`...)
	b = AppendJSONString(b, d.Supplier)
	b = append(b, `,"issued_on":`...)
	b = appendJSONDatePtr(b, d.IssuedOn)
	b = append(b, `,"valid_until":`...)
	b = appendJSONDatePtr(b, d.ValidUntil)
	if d.Note != "" {
		b = append(b, `,"note":`...)
		b = AppendJSONString(b, d.Note)
	}
	return append(b, '}')
}

// appendJSONDatePtr is a *Date field without omitempty: null for nil.
func appendJSONDatePtr(b []byte, d *Date) []byte {
	if d == nil {
		return append(b, "null"...)
	}
	return d.AppendJSON(b)
}
