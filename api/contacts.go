package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"carepath/domain"
)

// writeContacts logs the access to the cases the contacts belong to and writes them: the
// contact log is part of a case's personal data, read or written like the case itself.
func (s *Server) writeContacts(c *gin.Context, status int, body any, caseIDs []string) {
	if !s.audited(c, caseIDs...) {
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(status, body)
}

func (s *Server) logContact(c *gin.Context) {
	var n domain.NewContactRecord
	if err := decode(c, &n); err != nil {
		writeError(c, err)
		return
	}
	r, err := s.Hotline.LogContact(c.Request.Context(), actorOf(c), n)
	if err != nil {
		writeError(c, err)
		return
	}
	s.writeContacts(c, http.StatusCreated, r, casesOf(*r))
}

func (s *Server) caseContacts(c *gin.Context) {
	var limit int
	if !queryOf(c).Int("limit", &limit).ok() {
		return
	}
	items, err := s.Hotline.CaseContacts(c.Request.Context(), c.Param("id"), limit)
	if err != nil {
		writeError(c, err)
		return
	}
	s.writeContacts(c, http.StatusOK, gin.H{"items": items}, []string{c.Param("id")})
}

func (s *Server) findContacts(c *gin.Context) {
	f := domain.ContactFilter{Topic: domain.ContactTopic(c.Query("topic")), Q: c.Query("q"), Cursor: c.Query("cursor")}
	q := queryOf(c)
	f.From, f.To = q.Time("from", false), q.Time("to", true)
	q.Open("follow_up", &f.OpenFollowUps)
	q.Int("limit", &f.Limit)
	if !q.ok() {
		return
	}
	page, err := s.Hotline.FindContacts(c.Request.Context(), f)
	if err != nil {
		writeError(c, err)
		return
	}
	s.writeContacts(c, http.StatusOK, page, casesOf(page.Items...))
}

// casesOf lists the cases some contacts belong to, each once.
func casesOf(contacts ...domain.ContactRecord) []string {
	ids := make([]string, len(contacts))
	for i, r := range contacts {
		ids[i] = r.CaseID
	}
	return distinct(ids)
}

// distinct keeps each non-empty id once, in order.
func distinct(ids []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func (s *Server) requestContact(c *gin.Context) {
	var n domain.NewContactRequest
	if err := decode(c, &n); err != nil {
		writeError(c, err)
		return
	}
	r, err := s.Hotline.RequestContact(c.Request.Context(), actorOf(c), c.Param("id"), n)
	if err != nil {
		writeError(c, err)
		return
	}
	s.writeContacts(c, http.StatusCreated, r, []string{r.CaseID})
}

// defaultContactRequestsPerHour is how many contact requests one client address may send an
// hour from the status page when Server.ContactRequestsPerHour is not set.
const defaultContactRequestsPerHour = 10

// requestContactByCode is the status page's contact request: no credential but the case number
// and access code in the body, refused and limited like a status lookup, limited per client
// address, and one open at a time per case.
func (s *Server) requestContactByCode() gin.HandlerFunc {
	limiter := limiterOr(s.ContactRequestsPerHour, defaultContactRequestsPerHour, time.Hour)
	return func(c *gin.Context) {
		c.Header("Cache-Control", "no-store")
		if limiter.limited(c) {
			return
		}
		var req domain.StatusContactRequest
		if err := decode(c, &req); err != nil {
			writeError(c, err)
			return
		}
		r, err := s.Hotline.RequestContactByCode(c.Request.Context(), req, c.ClientIP())
		if err != nil {
			writeError(c, err)
			return
		}
		c.JSON(http.StatusCreated, r)
	}
}

func (s *Server) completeContactRequest(c *gin.Context) {
	var req struct {
		Outcome domain.ContactOutcome `json:"outcome"`
		Note    string                `json:"note"`
	}
	if err := decode(c, &req); err != nil {
		writeError(c, err)
		return
	}
	r, err := s.Hotline.CompleteContactRequest(c.Request.Context(), actorOf(c), c.Param("id"), req.Outcome, req.Note)
	if err != nil {
		writeError(c, err)
		return
	}
	s.writeContacts(c, http.StatusOK, r, []string{r.CaseID})
}

func (s *Server) submitLead(c *gin.Context) {
	var n domain.NewLead
	if err := decode(c, &n); err != nil {
		writeError(c, err)
		return
	}
	r, err := s.Hotline.SubmitLead(c.Request.Context(), actorOf(c), n)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, r)
}

// listLeads answers the center with the triage queue and an agency with the state of its own
// leads, nothing more.
func (s *Server) listLeads(c *gin.Context) {
	f := domain.LeadFilter{State: domain.LeadState(c.Query("state"))}
	if !queryOf(c).Int("limit", &f.Limit).ok() {
		return
	}
	leads, receipts, err := s.Hotline.ListLeads(c.Request.Context(), actorOf(c), f)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	if receipts != nil {
		c.JSON(http.StatusOK, gin.H{"items": receipts})
		return
	}
	if leads == nil {
		leads = []domain.Lead{}
	}
	c.JSON(http.StatusOK, gin.H{"items": leads})
}

func (s *Server) triageLead(c *gin.Context) {
	var req struct {
		Outcome domain.LeadState `json:"outcome"`
		Note    string           `json:"note"`
	}
	if err := decode(c, &req); err != nil {
		writeError(c, err)
		return
	}
	l, err := s.Hotline.TriageLead(c.Request.Context(), c.Param("id"), req.Outcome, req.Note)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, l)
}

func (s *Server) convertLead(c *gin.Context) {
	var cv domain.LeadConversion
	if err := decode(c, &cv); err != nil {
		writeError(c, err)
		return
	}
	l, cs, code, err := s.Hotline.ConvertLead(c.Request.Context(), actorOf(c), c.Param("id"), cv)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Location", "/api/v1/cases/"+cs.ID)
	c.Header("Cache-Control", "no-store")
	if !s.audited(c, cs.ID) {
		return
	}
	c.JSON(http.StatusCreated, gin.H{"lead": l, "case_id": cs.ID, "case_number": cs.Number, "access_code": code})
}

func (s *Server) listContactRequests(c *gin.Context) {
	var limit int
	if !queryOf(c).Int("limit", &limit).ok() {
		return
	}
	items, err := s.Hotline.ContactRequestsIn(c.Request.Context(), c.Query("state"), limit)
	if err != nil {
		writeError(c, err)
		return
	}
	ids := make([]string, len(items))
	for i, r := range items {
		ids[i] = r.CaseID
	}
	s.writeContacts(c, http.StatusOK, gin.H{"items": items}, distinct(ids))
}
