// Package migrations holds the numbered SQL migrations and the shipped production calendar,
// embedded into the binary.
package migrations

import (
	"embed"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// FS holds the *.sql migrations (goose format) and calendar/*.csv.
//
//go:embed *.sql calendar/*.csv
var FS embed.FS

// CalendarRow is one line of a production calendar file: date,kind,note.
type CalendarRow struct {
	Date, Kind, Note string
}

// ShippedCalendar returns the exceptional days shipped with this release.
func ShippedCalendar() ([]CalendarRow, error) {
	f, err := FS.Open("calendar/ru.csv")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadCalendar(f)
}

// ReadCalendar parses a calendar CSV with the header date,kind,note.
func ReadCalendar(r io.Reader) ([]CalendarRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read calendar: %w", err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != "date,kind,note" && strings.Join(recs[0], ",") != "date,kind" {
		return nil, fmt.Errorf("read calendar: the first line must be the header date,kind,note")
	}
	out := make([]CalendarRow, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		if len(rec) < 2 {
			return nil, fmt.Errorf("read calendar: line %d: want date,kind,note", i+2)
		}
		row := CalendarRow{Date: strings.TrimSpace(rec[0]), Kind: strings.TrimSpace(rec[1])}
		if len(rec) > 2 {
			row.Note = strings.TrimSpace(rec[2])
		}
		out = append(out, row)
	}
	return out, nil
}
