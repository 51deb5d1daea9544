package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"carepath/domain"
)

// TestStatsExportsReadBack reads the CSV of every report and the XLSX workbook back and compares
// them with the JSON figures, cell by cell: the CSV as Excel in a Russian locale reads it, the
// workbook with numbers as numbers and days as dates.
func TestStatsExportsReadBack(t *testing.T) {
	h := newHarness(t)
	h.waitingCase("female")
	h.waitingCase("male")
	h.facility("Дом для выгрузки", domain.ElderlyDisabled, 4)

	r := h.do("GET", "/api/v1/stats", nil)
	if r.status != http.StatusOK {
		t.Fatalf("stats: %d %s", r.status, r.body)
	}
	var st domain.Stats
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Applications) != 1 || st.Applications[0].Count != 2 || st.Waiting.Lengths[0].Count != 2 {
		t.Fatalf("two applications this month and two waiting: %+v %+v", st.Applications, st.Waiting.Lengths)
	}
	reports := domain.StatsReports(&st)

	x := h.do("GET", "/api/v1/stats/export.xlsx", nil)
	if x.status != http.StatusOK || !strings.HasPrefix(x.header.Get("Content-Type"), "application/vnd.openxmlformats") {
		t.Fatalf("xlsx: %d %s", x.status, x.header.Get("Content-Type"))
	}
	book, err := excelize.OpenReader(bytes.NewReader(x.body))
	if err != nil {
		t.Fatal(err)
	}
	sheets := book.GetSheetList()
	if len(sheets) != len(reports) {
		t.Fatalf("sheets %v, want one per report (%d)", sheets, len(reports))
	}

	for i, rep := range reports {
		c := h.do("GET", "/api/v1/stats/export.csv?report="+rep.Name, nil)
		if c.status != http.StatusOK || c.header.Get("Content-Type") != "text/csv; charset=utf-8" {
			t.Fatalf("csv %s: %d %s", rep.Name, c.status, c.body)
		}
		if !bytes.HasPrefix(c.body, []byte("\xEF\xBB\xBF")) || !bytes.Contains(c.body, []byte("\r\n")) {
			t.Errorf("csv %s: no byte order mark or CRLF", rep.Name)
		}
		cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(c.body, []byte("\xEF\xBB\xBF"))))
		cr.Comma = ';'
		lines, err := cr.ReadAll()
		if err != nil {
			t.Fatalf("csv %s: %v", rep.Name, err)
		}
		if sheets[i] != rep.Title {
			t.Errorf("sheet %d is %q, want %q", i+1, sheets[i], rep.Title)
		}
		rows, err := book.GetRows(rep.Title)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != len(rep.Rows)+1 || len(rows) != len(rep.Rows)+1 {
			t.Fatalf("%s: %d csv lines, %d sheet rows, want %d", rep.Name, len(lines), len(rows), len(rep.Rows)+1)
		}
		for j, col := range rep.Columns {
			if lines[0][j] != col.Title || rows[0][j] != col.Title {
				t.Errorf("%s column %d: csv %q, sheet %q, want %q", rep.Name, j, lines[0][j], rows[0][j], col.Title)
			}
		}
		for k, row := range rep.Rows {
			for j, v := range row {
				want := expectedCell(v)
				got := lines[k+1][j]
				if got != want {
					t.Errorf("%s row %d col %d: csv %q, want %q", rep.Name, k+1, j+1, got, want)
				}
				sheetRow := rows[k+1]
				cellText := ""
				if j < len(sheetRow) {
					cellText = sheetRow[j]
				}
				cell, _ := excelize.CoordinatesToCellName(j+1, k+2)
				raw, _ := book.GetCellValue(rep.Title, cell, excelize.Options{RawCellValue: true})
				typ, _ := book.GetCellType(rep.Title, cell)
				switch x := v.(type) {
				case int:
					if raw != strconv.Itoa(x) || typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
						t.Errorf("%s %s: want the number %d, got %q (type %v)", rep.Name, cell, x, raw, typ)
					}
				case *float64:
					if x != nil {
						f, err := strconv.ParseFloat(raw, 64)
						if err != nil || f != *x {
							t.Errorf("%s %s: want the number %v, got %q", rep.Name, cell, *x, raw)
						}
					}
				case domain.Date:
					// a date is a serial number shown as 31.01.2025
					if _, err := strconv.ParseFloat(raw, 64); err != nil || cellText != want {
						t.Errorf("%s %s: want the date %s, got %q shown as %q", rep.Name, cell, want, raw, cellText)
					}
				case string:
					if cellText != x {
						t.Errorf("%s %s: want %q, got %q", rep.Name, cell, x, cellText)
					}
				}
			}
		}
	}

	// the share of the deadlines met is written with a decimal comma
	c := h.do("GET", "/api/v1/stats/export.csv?report=deadlines", nil)
	if !strings.Contains(string(c.body), "Решение о признании нуждающимся;") && !strings.Contains(string(c.body), "решение о признании нуждающимся;") {
		t.Errorf("deadlines csv: %s", c.body)
	}
	if bad := h.do("GET", "/api/v1/stats/export.csv?report=nope", nil); bad.status != http.StatusBadRequest {
		t.Errorf("unknown report: want 400, got %d", bad.status)
	}
	if bad := h.do("GET", "/api/v1/stats?from=2025-05-01&to=2025-04-01", nil); bad.status != http.StatusBadRequest {
		t.Errorf("reversed period: want 400, got %d", bad.status)
	}
}

// expectedCell is a cell as Excel in a Russian locale reads a CSV, written out here apart from
// the server's own writer.
func expectedCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case *int:
		if x == nil {
			return ""
		}
		return strconv.Itoa(*x)
	case *float64:
		if x == nil {
			return ""
		}
		return strings.ReplaceAll(strconv.FormatFloat(*x, 'f', -1, 64), ".", ",")
	case domain.Date:
		s := x.String() // 2025-01-31
		return s[8:10] + "." + s[5:7] + "." + s[0:4]
	case *time.Time:
		if x == nil {
			return ""
		}
		return x.In(domain.Moscow).Format("02.01.2006 15:04")
	}
	b, _ := json.Marshal(v)
	return string(b)
}
