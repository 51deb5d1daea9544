package api

import (
	"bytes"
	"io"
	"strconv"

	"github.com/gin-gonic/gin"

	"carepath/domain"
)

// The relatives' lookup is the busiest public route and the cheapest one to answer, so the
// generic machinery around it would cost more than the lookup: validate leaves this route to
// readStatusRequest, and the answer is encoded without reflection. Neither changes what a
// client sees: a body that is not the plain, valid shape goes through the generic validation
// and decoding and gets their answers (TestStatusFastPathRefusesAlike).
const statusPath = "/api/v1/status"

// statusContactRequestsPath is the route of the status page's contact request.
const statusContactRequestsPath = statusPath + "/contact-requests"

// maxFastStatusBody is the largest body the fast path reads (by its Content-Length); a valid
// one is about 70 bytes.
const maxFastStatusBody = 1024

type statusRequest struct {
	CaseNumber string `json:"case_number"`
	AccessCode string `json:"access_code"`
}

// readStatusRequest reads the lookup's body. The plain shape (application/json, one object
// with exactly case_number and access_code as strings without escapes, valid against
// StatusRequest in openapi.yaml) is accepted here; anything else is handed to the generic
// validator and decoder, which answer it as before. So the fast path accepts a subset of what
// the contract accepts, and refuses nothing itself.
func (s *Server) readStatusRequest(c *gin.Context) (statusRequest, error) {
	var req statusRequest
	if s.noStatusFastPath.Load() {
		return req, decode(c, &req)
	}
	r := c.Request
	if n := r.ContentLength; n > 0 && n <= maxFastStatusBody && r.Header.Get("Content-Type") == "application/json" {
		body := make([]byte, n)
		read, err := io.ReadFull(r.Body, body)
		if err == nil {
			if number, code, ok := parseStatusBody(body); ok {
				return statusRequest{number, code}, nil
			}
		}
		// Hand what was read and the rest back to the generic path.
		r.Body = readCloser{io.MultiReader(bytes.NewReader(body[:read]), r.Body), r.Body}
	}
	if err := s.validateRequest(c); err != nil {
		return req, err
	}
	return req, decode(c, &req)
}

type readCloser struct {
	io.Reader
	io.Closer
}

// parseStatusBody accepts {"case_number":"KC-2025-000123","access_code":"…"} (the keys in any
// order, JSON whitespace anywhere between tokens) when the number is one as
// domain.ParseCaseNumber reads it and the code is 1-64 printable ASCII characters; ok false for anything else.
func parseStatusBody(body []byte) (number, code string, ok bool) {
	// One string for both values.
	b := string(body)
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return "", "", false
	}
	var haveNumber, haveCode bool
	for field := 0; field < 2; field++ {
		i = skipSpace(b, i+1)
		key, next, ok := plainString(b, i)
		if !ok {
			return "", "", false
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return "", "", false
		}
		i = skipSpace(b, i+1)
		val, next, ok := plainString(b, i)
		if !ok {
			return "", "", false
		}
		switch {
		case key == "case_number" && !haveNumber && isCaseNumber(val):
			number, haveNumber = val, true
		case key == "access_code" && !haveCode && len(val) >= 1 && len(val) <= 64:
			code, haveCode = val, true
		default:
			return "", "", false
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ",}"[field] {
			return "", "", false
		}
	}
	if skipSpace(b, i+1) != len(b) {
		return "", "", false
	}
	return number, code, true
}

func isCaseNumber(v string) bool {
	_, ok := domain.ParseCaseNumber(v)
	return ok
}

func skipSpace(b string, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a JSON string at b[i] made of printable ASCII without escapes; it returns
// the contents and the index after the closing quote.
func plainString(b string, i int) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c < 0x20 || c > 0x7e || c == '\\':
			return "", 0, false
		}
	}
	return "", 0, false
}

// writeStatusView answers 200 with the view, encoded by hand: the same bytes as encoding/json
// gives for domain.StatusView (TestAppendStatusView), without its reflection.
func writeStatusView(c *gin.Context, v *domain.StatusView) {
	writeAppended(c, 200, func(b []byte) []byte { return appendStatusView(b, v) })
}

func appendStatusView(b []byte, v *domain.StatusView) []byte {
	b = append(b, `{"case_number":`...)
	b = domain.AppendJSONString(b, v.CaseNumber)
	b = append(b, `,"state_label":`...)
	b = domain.AppendJSONString(b, v.StateLabel)
	b = append(b, `,"stage":`...)
	b = strconv.AppendInt(b, int64(v.Stage), 10)
	b = append(b, `,"stage_count":`...)
	b = strconv.AppendInt(b, int64(v.StageCount), 10)
	b = append(b, `,"state_entered_on":`...)
	b = v.StateEnteredOn.AppendJSON(b)
	if v.NextStep != "" {
		b = append(b, `,"next_step":`...)
		b = domain.AppendJSONString(b, v.NextStep)
	}
	if v.NextStepBy != nil {
		b = append(b, `,"next_step_by":`...)
		b = v.NextStepBy.AppendJSON(b)
	}
	b = append(b, `,"missing_documents":`...)
	b = appendStrings(b, v.MissingDocuments)
	if v.WaitingPosition != 0 {
		b = append(b, `,"waiting_position":`...)
		b = strconv.AppendInt(b, int64(v.WaitingPosition), 10)
	}
	if v.Waiting != nil {
		b = append(b, `,"waiting":`...)
		b = appendWaitingStatus(b, v.Waiting)
	}
	b = append(b, `,"center_phone":`...)
	b = domain.AppendJSONString(b, v.CenterPhone)
	b = append(b, `,"missing_where":`...)
	b = domain.AppendJSONArray(b, v.MissingWhere, func(b []byte, m *domain.MissingDocument) []byte {
		b = append(b, `{"document":`...)
		b = domain.AppendJSONString(b, m.Document)
		b = append(b, `,"where":`...)
		b = domain.AppendJSONString(b, m.Where)
		return append(b, '}')
	})
	b = append(b, `,"timeline":`...)
	b = domain.AppendJSONArray(b, v.Timeline, func(b []byte, st *domain.TimelineStep) []byte {
		b = append(b, `{"label":`...)
		b = domain.AppendJSONString(b, st.Label)
		b = append(b, `,"on":`...)
		b = st.On.AppendJSON(b)
		return append(b, '}')
	})
	if v.VoucherHome != "" {
		b = append(b, `,"voucher_home":`...)
		b = domain.AppendJSONString(b, v.VoucherHome)
	}
	return append(b, '}')
}

// appendWaitingStatus appends the waiting part of the relatives' view (domain.WaitingStatus).
func appendWaitingStatus(b []byte, w *domain.WaitingStatus) []byte {
	b = append(b, `{"position":`...)
	b = strconv.AppendInt(b, int64(w.Position), 10)
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(w.Total), 10)
	b = append(b, `,"estimate":`...)
	if w.Estimate == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"from_months":`...)
		b = strconv.AppendInt(b, int64(w.Estimate.FromMonths), 10)
		b = append(b, `,"to_months":`...)
		b = strconv.AppendInt(b, int64(w.Estimate.ToMonths), 10)
		b = append(b, '}')
	}
	eb := &w.EstimateBasis
	b = append(b, `,"estimate_basis":{"admissions":`...)
	b = strconv.AppendInt(b, int64(eb.Admissions), 10)
	b = append(b, `,"period_months":`...)
	b = strconv.AppendInt(b, int64(eb.PeriodMonths), 10)
	b = append(b, `,"segment_position":`...)
	b = strconv.AppendInt(b, int64(eb.SegmentPosition), 10)
	b = append(b, `,"preferences":`...)
	b = strconv.AppendBool(b, eb.Preferences)
	if eb.Reason != "" {
		b = append(b, `,"reason":`...)
		b = domain.AppendJSONString(b, eb.Reason)
	}
	return append(b, "}}"...)
}
