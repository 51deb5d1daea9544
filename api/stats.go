package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/xuri/excelize/v2"

	"carepath/domain"
)

// The center's figures (issue 19): the JSON the console draws, and the same reports as CSV
// (one report) and XLSX (one sheet per report) for the department.

func (s *Server) statsOf(c *gin.Context) (*domain.Stats, bool) {
	q, err := domain.ParseStatsQuery(c.Query("from"), c.Query("to"), c.Query("facility_type"), c.Query("district"), s.Figures.Clock())
	if err != nil {
		writeError(c, err)
		return nil, false
	}
	st, err := s.Figures.Stats(c.Request.Context(), q)
	if err != nil {
		writeError(c, err)
		return nil, false
	}
	return st, true
}

func (s *Server) getStats(c *gin.Context) {
	if st, ok := s.statsOf(c); ok {
		c.JSON(http.StatusOK, st)
	}
}

// exportStatsCSV writes one report as Excel in a Russian locale opens it: UTF-8 with a byte
// order mark, ';' between cells, dates as 31.01.2025 and decimals with a comma.
func (s *Server) exportStatsCSV(c *gin.Context) {
	name := c.Query("report")
	if !validReport(name) {
		writeError(c, domain.Invalid("report", "must be one of the reports: %s", strings.Join(domain.StatsReportNames, ", ")))
		return
	}
	st, ok := s.statsOf(c)
	if !ok {
		return
	}
	r, _ := domain.StatsReportByName(st, name)
	var buf bytes.Buffer
	buf.WriteString("\uFEFF")
	w := csv.NewWriter(&buf)
	w.Comma = ';'
	w.UseCRLF = true
	head := make([]string, len(r.Columns))
	for i, col := range r.Columns {
		head[i] = col.Title
	}
	_ = w.Write(head)
	for _, row := range r.Rows {
		line := make([]string, len(row))
		for i, v := range row {
			line[i] = csvCell(v)
		}
		_ = w.Write(line)
	}
	w.Flush()
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="carepath-%s-%s-%s.csv"`, name, st.From, st.To))
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

func validReport(name string) bool {
	for _, n := range domain.StatsReportNames {
		if n == name {
			return true
		}
	}
	return false
}

// csvCell writes a cell for a Russian locale.
func csvCell(v any) string {
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
	case float64:
		return strings.Replace(strconv.FormatFloat(x, 'f', -1, 64), ".", ",", 1)
	case *float64:
		if x == nil {
			return ""
		}
		return csvCell(*x)
	case domain.Date:
		if x.IsZero() {
			return ""
		}
		return x.Time().Format("02.01.2006")
	case time.Time:
		return x.In(domain.Moscow).Format("02.01.2006 15:04")
	case *time.Time:
		if x == nil {
			return ""
		}
		return csvCell(*x)
	}
	return fmt.Sprint(v)
}

// xlsxCell is a cell's value for a sheet: numbers as numbers, days and instants as Excel dates
// (Moscow wall time: a sheet has no time zones); nil leaves the cell empty.
func xlsxCell(v any) any {
	switch x := v.(type) {
	case *int:
		if x == nil {
			return nil
		}
		return *x
	case *float64:
		if x == nil {
			return nil
		}
		return *x
	case domain.Date:
		if x.IsZero() {
			return nil
		}
		return x.Time()
	case time.Time:
		m := x.In(domain.Moscow)
		return time.Date(m.Year(), m.Month(), m.Day(), m.Hour(), m.Minute(), m.Second(), 0, time.UTC)
	case *time.Time:
		if x == nil {
			return nil
		}
		return xlsxCell(*x)
	}
	return v
}

// exportStatsXLSX writes every report on a sheet of its own, headings in Russian.
func (s *Server) exportStatsXLSX(c *gin.Context) {
	st, ok := s.statsOf(c)
	if !ok {
		return
	}
	body, err := statsWorkbook(st)
	if err != nil {
		writeError(c, fmt.Errorf("figures workbook: %w", err))
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="carepath-%s-%s.xlsx"`, st.From, st.To))
	c.Data(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body)
}

func statsWorkbook(st *domain.Stats) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	dateFmt, instantFmt, shareFmt := "dd.mm.yyyy", "dd.mm.yyyy hh:mm", "0.0%"
	styles := map[domain.ColumnKind]int{}
	for kind, fmtCode := range map[domain.ColumnKind]*string{domain.ColDate: &dateFmt, domain.ColInstant: &instantFmt} {
		id, err := f.NewStyle(&excelize.Style{CustomNumFmt: fmtCode})
		if err != nil {
			return nil, err
		}
		styles[kind] = id
	}
	share, err := f.NewStyle(&excelize.Style{CustomNumFmt: &shareFmt})
	if err != nil {
		return nil, err
	}
	for i, r := range domain.StatsReports(st) {
		sheet := r.Title
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sheet); err != nil {
				return nil, err
			}
		} else if _, err := f.NewSheet(sheet); err != nil {
			return nil, err
		}
		for j, col := range r.Columns {
			cell, _ := excelize.CoordinatesToCellName(j+1, 1)
			if err := f.SetCellValue(sheet, cell, col.Title); err != nil {
				return nil, err
			}
			name, _ := excelize.ColumnNumberToName(j + 1)
			_ = f.SetColWidth(sheet, name, name, float64(max(12, min(48, len([]rune(col.Title))+4))))
			style, ok := styles[col.Kind]
			if col.Kind == domain.ColFloat && r.Name == "deadlines" {
				style, ok = share, true
			}
			if ok && len(r.Rows) > 0 {
				last, _ := excelize.CoordinatesToCellName(j+1, len(r.Rows)+1)
				first, _ := excelize.CoordinatesToCellName(j+1, 2)
				if err := f.SetCellStyle(sheet, first, last, style); err != nil {
					return nil, err
				}
			}
		}
		last, _ := excelize.CoordinatesToCellName(len(r.Columns), 1)
		if err := f.SetCellStyle(sheet, "A1", last, bold); err != nil {
			return nil, err
		}
		for k, row := range r.Rows {
			vals := make([]any, len(row))
			for j, v := range row {
				vals[j] = xlsxCell(v)
			}
			cell, _ := excelize.CoordinatesToCellName(1, k+2)
			if err := f.SetSheetRow(sheet, cell, &vals); err != nil {
				return nil, err
			}
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
