package store

import (
	"time"

	"carepath/domain"
)

// appendChecklist appends cl as json.Marshal writes it (TestAppendChecklist), without its
// reflection: every command writes its case's checklist, the largest part of the row.
func appendChecklist(b []byte, cl domain.Checklist) []byte {
	if cl == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, d := range cl {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":`...)
		b = domain.AppendJSONString(b, string(d.Type))
		b = append(b, `,"status":`...)
		b = domain.AppendJSONString(b, string(d.Status))
		if d.Required {
			b = append(b, `,"required":true`...)
		} else {
			b = append(b, `,"required":false`...)
		}
		b = append(b, `,"supplier":`...)
		b = domain.AppendJSONString(b, d.Supplier)
		b = append(b, `,"issued_on":`...)
		b = appendDate(b, d.IssuedOn)
		b = append(b, `,"valid_until":`...)
		b = appendDate(b, d.ValidUntil)
		if d.Note != "" {
			b = append(b, `,"note":`...)
			b = domain.AppendJSONString(b, d.Note)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendDate is a *domain.Date as JSON: null for nil or the zero date, else "2006-01-02".
func appendDate(b []byte, d *domain.Date) []byte {
	if d == nil || d.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = d.Time().AppendFormat(b, time.DateOnly)
	return append(b, '"')
}
