package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"carepath/domain"
)

// caseView is a case as the API shows it: the stored case plus what is derived from it at read
// time (state label, allowed events, expired documents, overdue deadlines).
type caseView struct {
	*domain.Case
	StateLabel    string            `json:"state_label"`
	AllowedEvents []string          `json:"allowed_events"`
	Checklist     []domain.Document `json:"checklist"`
	Deadlines     []domain.Deadline `json:"deadlines"`
	AccessCode    string            `json:"access_code,omitempty"`
	// Warnings: what the registration should know (a SNILS already on an open case).
	Warnings []domain.Reason `json:"warnings,omitempty"`
}

func viewOf(c *domain.Case, now time.Time) caseView {
	v := caseView{Case: c, AllowedEvents: domain.AllowedEvents(c.State)}
	if v.AllowedEvents == nil {
		v.AllowedEvents = []string{} // a case at its end allows none: an empty list, never null
	}
	if st, ok := domain.LookupState(c.State); ok {
		v.StateLabel = st.Label
	}
	today := domain.DateOf(now)
	v.Checklist = make([]domain.Document, len(c.Checklist))
	for i, d := range c.Checklist {
		d.Status = d.StatusOn(today)
		v.Checklist[i] = d
	}
	v.Deadlines = make([]domain.Deadline, len(c.Deadlines))
	for i, d := range c.Deadlines {
		d.State = d.StateAt(now)
		// one zone in the answer: a deadline just opened carries the domain's Moscow time,
		// one read back the database's
		d.OpenedAt, d.DueAt = d.OpenedAt.UTC(), d.DueAt.UTC()
		v.Deadlines[i] = d
	}
	return v
}

func etag(version int) string { return `"` + strconv.Itoa(version) + `"` }

// writeCase logs the access and writes the case (writeChanged).
func (s *Server) writeCase(c *gin.Context, status int, cs *domain.Case, accessCode string) {
	if !s.audited(c, cs.ID) {
		return
	}
	s.writeChanged(c, status, cs, accessCode)
}

// writeChanged writes a case a command has just changed, whose access-log line the command
// wrote with its change (commandActor): whole to a specialist, cut to its role for an agency
// (the service center that files a case also gets its access code to hand over).
func (s *Server) writeChanged(c *gin.Context, status int, cs *domain.Case, accessCode string) {
	c.Header("ETag", etag(cs.Version))
	if accessCode != "" {
		c.Header("Cache-Control", "no-store")
	}
	if a := actorOf(c); a.Kind == domain.ActorAgency {
		c.JSON(status, agencyCaseView{domain.AgencyView(a, cs, time.Now()), accessCode})
		return
	}
	v := viewOf(cs, time.Now())
	v.AccessCode = accessCode
	writeCaseView(c, status, &v)
}

type agencyCaseView struct {
	domain.AgencyCase
	AccessCode string `json:"access_code,omitempty"`
}

// decode reads a JSON body strictly: unknown fields and wrong types are EINVALID naming the field.
func decode(c *gin.Context, dst any) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return domain.Invalid(te.Field, "must be %s", te.Type)
		case errors.As(err, &se):
			return domain.Invalid("body", "is not valid JSON: %v", err)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return domain.Invalid(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "is not a known field")
		case errors.Is(err, io.EOF):
			return domain.Invalid("body", "is empty")
		default:
			return domain.Invalid("body", "%v", err)
		}
	}
	if dec.More() {
		return domain.Invalid("body", "holds more than one JSON value")
	}
	return nil
}

// errIfMatchRequired is the answer to a change sent without the version it was made against.
func errIfMatchRequired() error {
	return domain.ErrorOn(domain.EPRECONDITION, "If-Match", "is required: send the case version (its ETag)")
}

// ifMatch reads the expected version from If-Match ("3", or 3); 0 when absent and not required
// (428 when required). If-Match compares strongly (RFC 9110 13.1.1): a weak tag (W/"3") never
// matches, so it is answered 412 like a stale version.
func ifMatch(c *gin.Context, required bool) (int, error) {
	h := strings.TrimSpace(c.GetHeader("If-Match"))
	if h == "" {
		if required {
			return 0, errIfMatchRequired()
		}
		return 0, nil
	}
	if strings.HasPrefix(h, "W/") {
		return 0, domain.ErrorOn(domain.ESTALE, "If-Match", "a weak tag never matches: send the ETag as the case gave it")
	}
	h = strings.Trim(h, `"`)
	v, err := strconv.Atoi(h)
	if err != nil || v < 1 {
		return 0, domain.Invalid("If-Match", "must be a case version such as \"3\"")
	}
	return v, nil
}

func (s *Server) createCase(c *gin.Context) {
	var n domain.NewCase
	if err := decode(c, &n); err != nil {
		writeError(c, err)
		return
	}
	cs, code, err := s.Cases.Register(c.Request.Context(), commandActor(c), n)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Location", "/api/v1/cases/"+cs.ID)
	warnings, err := s.Cases.RegistrationWarnings(c.Request.Context(), actorOf(c), cs)
	if err != nil {
		writeError(c, err)
		return
	}
	if len(warnings) > 0 {
		c.Header("ETag", etag(cs.Version))
		c.Header("Cache-Control", "no-store")
		v := viewOf(cs, time.Now())
		v.AccessCode, v.Warnings = code, warnings
		writeCaseView(c, http.StatusCreated, &v)
		return
	}
	s.writeChanged(c, http.StatusCreated, cs, code)
}

func (s *Server) getCase(c *gin.Context) {
	cs, err := s.Cases.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	s.writeCase(c, http.StatusOK, cs, "")
}

func (s *Server) listCases(c *gin.Context) {
	f := domain.CaseFilter{
		State: domain.State(c.Query("state")), FacilityType: domain.FacilityType(c.Query("facility_type")),
		Assignee: c.Query("assignee"), Q: c.Query("q"), Cursor: c.Query("cursor"),
	}
	q := queryOf(c)
	q.Bool("overdue", &f.Overdue)
	q.Int("limit", &f.Limit)
	if !q.ok() {
		return
	}
	page, err := s.Hotline.FindCases(c.Request.Context(), f)
	if err != nil {
		writeError(c, err)
		return
	}
	writePage(s, c, page, page.Items, func(it domain.CaseSummary) string { return it.ID })
}

func (s *Server) fireEvent(c *gin.Context) {
	version, err := ifMatch(c, true)
	if err != nil {
		writeError(c, err)
		return
	}
	var cmd domain.EventCommand
	if err := decode(c, &cmd); err != nil {
		writeError(c, err)
		return
	}
	cs, err := s.Cases.Fire(c.Request.Context(), commandActor(c), c.Param("id"), version, cmd)
	if err != nil {
		writeError(c, err)
		return
	}
	s.writeChanged(c, http.StatusOK, cs, "")
}

func (s *Server) recordDocument(c *gin.Context) {
	version, err := ifMatch(c, false)
	if err != nil {
		writeError(c, err)
		return
	}
	var u domain.DocumentUpdate
	if err := decode(c, &u); err != nil {
		writeError(c, err)
		return
	}
	cs, err := s.Cases.RecordDocument(c.Request.Context(), commandActor(c), c.Param("id"), domain.DocType(c.Param("type")), version, u)
	if err != nil {
		writeError(c, err)
		return
	}
	s.writeChanged(c, http.StatusOK, cs, "")
}

func (s *Server) getHistory(c *gin.Context) {
	h, err := s.Cases.History(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	if !s.audited(c, c.Param("id")) {
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": h})
}

func (s *Server) getLifecycle(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"states": domain.States, "events": domain.Events, "mermaid": domain.Mermaid()})
}
