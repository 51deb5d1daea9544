package store

import (
	"bytes"
	"encoding/json"
	"time"
	"unicode/utf8"

	"carepath/domain"
)

// The case's checklist, the largest part of its row, is read and written by hand (a command
// does both, a status lookup reads it): the same as encoding/json (TestDecodeChecklist,
// TestAppendChecklist) without its reflection. It is written by domain.AppendJSONChecklist,
// which the case view's encoder shares.

// DecodeChecklist decodes a checklist as PostgreSQL prints jsonb: documents whose values are
// plain strings (no escapes), booleans, null and dates. It gives what encoding/json gives
// (TestDecodeChecklist) at a fraction of the cost, and falls back to encoding/json for anything
// else (an escaped note, an unknown key, an odd date).
func DecodeChecklist(b []byte) (domain.Checklist, error) {
	if cl, ok := scanChecklist(b); ok {
		return cl, nil
	}
	var cl domain.Checklist
	err := json.Unmarshal(b, &cl)
	return cl, err
}

func scanChecklist(b []byte) (domain.Checklist, bool) {
	s := jsonScanner{b: b}
	if !s.punct('[') {
		return nil, false
	}
	cl := make(domain.Checklist, 0, 16)
	if s.punct(']') {
		return cl, s.end()
	}
	for {
		if !s.punct('{') {
			return nil, false
		}
		var d domain.Document
		for {
			key, ok := s.str()
			if !ok || !s.punct(':') {
				return nil, false
			}
			switch key {
			case "type", "status", "supplier", "note":
				v, ok := s.str()
				if !ok {
					return nil, false
				}
				switch key {
				case "type":
					d.Type = domain.DocType(v)
				case "status":
					d.Status = domain.DocStatus(v)
				case "supplier":
					d.Supplier = v
				default:
					d.Note = v
				}
			case "required":
				v, ok := s.boolean()
				if !ok {
					return nil, false
				}
				d.Required = v
			case "issued_on", "valid_until":
				v, ok := s.date()
				if !ok {
					return nil, false
				}
				if key == "issued_on" {
					d.IssuedOn = v
				} else {
					d.ValidUntil = v
				}
			default:
				return nil, false
			}
			if s.punct(',') {
				continue
			}
			if s.punct('}') {
				break
			}
			return nil, false
		}
		cl = append(cl, d)
		if s.punct(',') {
			continue
		}
		if s.punct(']') {
			return cl, s.end()
		}
		return nil, false
	}
}

// jsonScanner reads the few JSON forms scanChecklist accepts.
type jsonScanner struct {
	b []byte
	i int
}

func (s *jsonScanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\n' || s.b[s.i] == '\t' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *jsonScanner) end() bool { s.space(); return s.i == len(s.b) }

func (s *jsonScanner) punct(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// raw returns the contents of a string without escapes or control characters.
func (s *jsonScanner) raw() ([]byte, bool) {
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	for j := s.i + 1; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			v := s.b[s.i+1 : j]
			s.i = j + 1
			return v, utf8.Valid(v)
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

func (s *jsonScanner) str() (string, bool) {
	v, ok := s.raw()
	return string(v), ok
}

func (s *jsonScanner) literal(word string) bool {
	s.space()
	if bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		s.i += len(word)
		return true
	}
	return false
}

func (s *jsonScanner) boolean() (bool, bool) {
	if s.literal("true") {
		return true, true
	}
	return false, s.literal("false")
}

// date reads null or "YYYY-MM-DD" (a real day); anything else is left to encoding/json.
func (s *jsonScanner) date() (*domain.Date, bool) {
	if s.literal("null") {
		return nil, true
	}
	v, ok := s.raw()
	if !ok || len(v) != 10 || v[4] != '-' || v[7] != '-' {
		return nil, false
	}
	num := func(p []byte) (int, bool) {
		n := 0
		for _, c := range p {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(v[:4])
	m, ok2 := num(v[5:7])
	d, ok3 := num(v[8:])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return nil, false
	}
	date := domain.NewDate(y, time.Month(m), d)
	return &date, true
}
