package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"carepath/domain"
)

// allow lets the request through when the role matrix grants the route's action to the actor.
func (s *Server) allow(act domain.Action) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := domain.Authorize(actorOf(c), act); err != nil {
			writeError(c, err)
			return
		}
		c.Next()
	}
}

// audited writes the access log line for the cases a response is about to show or has changed.
// Nothing is shown that could not be logged.
func (s *Server) audited(c *gin.Context, caseIDs ...string) bool {
	err := s.Access.RecordAccess(c.Request.Context(), actorOf(c), caseIDs, c.Request.Method, c.FullPath(), c.GetString(ctxRequestID))
	if err != nil {
		writeError(c, err)
		return false
	}
	return true
}

// commandActor is the actor of a command with the request it comes through: the command writes
// its access-log line with its change, in the change's own statement (domain.Change.Access).
func commandActor(c *gin.Context) domain.Actor {
	a := actorOf(c)
	a.Via = &domain.Via{Method: c.Request.Method, Route: c.FullPath(), RequestID: c.GetString(ctxRequestID)}
	return a
}

func (s *Server) getMe(c *gin.Context) { c.JSON(http.StatusOK, actorOf(c)) }

func (s *Server) lookupStatus(c *gin.Context) {
	req, err := s.readStatusRequest(c)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	v, err := s.Access.Status(c.Request.Context(), req.CaseNumber, req.AccessCode, c.ClientIP())
	if err != nil {
		writeError(c, err)
		return
	}
	if s.noStatusFastPath.Load() {
		c.JSON(http.StatusOK, v)
		return
	}
	writeStatusView(c, v)
}

func (s *Server) rotateAccessCode(c *gin.Context) {
	cs, code, err := s.Cases.RotateAccessCode(c.Request.Context(), actorOf(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	if !s.audited(c, cs.ID) {
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"case_id": cs.ID, "number": cs.Number, "version": cs.Version, "access_code": code})
}

func (s *Server) reassign(c *gin.Context) {
	version, err := ifMatch(c, true)
	if err != nil {
		writeError(c, err)
		return
	}
	var req struct {
		AssigneeID string `json:"assignee_id"`
	}
	if err := decode(c, &req); err != nil {
		writeError(c, err)
		return
	}
	cs, err := s.Cases.Reassign(c.Request.Context(), commandActor(c), c.Param("id"), version, req.AssigneeID)
	if err != nil {
		writeError(c, err)
		return
	}
	if cs.Version == version { // the case already had this assignee: no change, no line written
		s.writeCase(c, http.StatusOK, cs, "")
		return
	}
	s.writeChanged(c, http.StatusOK, cs, "")
}

func (s *Server) listDeadlines(c *gin.Context) {
	f := domain.DeadlineFilter{Assignee: c.Query("assignee")}
	q := queryOf(c)
	q.Bool("at_risk", &f.AtRisk)
	q.Int("limit", &f.Limit)
	if !q.ok() {
		return
	}
	items, err := s.Cases.Deadlines(c.Request.Context(), actorOf(c), f)
	if err != nil {
		writeError(c, err)
		return
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.CaseID
	}
	if !s.audited(c, ids...) {
		return
	}
	if items == nil {
		items = []domain.DeadlineItem{}
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

func (s *Server) listAgencyCases(c *gin.Context) {
	f := domain.CaseFilter{State: domain.State(c.Query("state")), Cursor: c.Query("cursor")}
	if !queryOf(c).Int("limit", &f.Limit).ok() {
		return
	}
	page, err := s.Cases.AgencyCases(c.Request.Context(), actorOf(c), f)
	if err != nil {
		writeError(c, err)
		return
	}
	writePage(s, c, page, page.Items, func(it domain.AgencyCaseSummary) string { return it.ID })
}

// writePage logs a line for each case of a list and writes the page.
func writePage[T any](s *Server, c *gin.Context, page any, items []T, caseID func(T) string) {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = caseID(it)
	}
	if !s.audited(c, ids...) {
		return
	}
	c.JSON(http.StatusOK, page)
}

func (s *Server) getAgencyCase(c *gin.Context) {
	cs, err := s.Cases.AgencyCase(c.Request.Context(), actorOf(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	s.writeCase(c, http.StatusOK, cs, "")
}

type credentialView struct {
	Token     string     `json:"token"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func (s *Server) createUser(c *gin.Context) {
	var n domain.NewUser
	if err := decode(c, &n); err != nil {
		writeError(c, err)
		return
	}
	u, tok, err := s.Access.CreateUser(c.Request.Context(), n)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Location", "/api/v1/users/"+u.ID)
	c.JSON(http.StatusCreated, gin.H{"user": u, "token": tok.Secret, "expires_at": tok.ExpiresAt})
}

func (s *Server) listUsers(c *gin.Context) {
	us, err := s.Access.Users(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": us})
}

// decodeOptional decodes a body that may be left out.
func decodeOptional(c *gin.Context, dst any) error {
	if c.Request.ContentLength == 0 {
		return nil
	}
	return decode(c, dst)
}

func (s *Server) issueToken(c *gin.Context) {
	var req struct {
		ExpiresInDays int `json:"expires_in_days"`
	}
	if err := decodeOptional(c, &req); err != nil {
		writeError(c, err)
		return
	}
	tok, err := s.Access.IssueToken(c.Request.Context(), c.Param("id"), req.ExpiresInDays)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, credentialView{tok.Secret, tok.ExpiresAt})
}

func (s *Server) revokeTokens(c *gin.Context) {
	n, err := s.Access.RevokeTokens(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"revoked": n})
}

func (s *Server) createAgency(c *gin.Context) {
	var n domain.NewAgency
	if err := decode(c, &n); err != nil {
		writeError(c, err)
		return
	}
	a, key, err := s.Access.CreateAgency(c.Request.Context(), n)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Location", "/api/v1/agencies/"+a.ID)
	c.JSON(http.StatusCreated, gin.H{"agency": a, "api_key": key.Secret})
}

func (s *Server) listAgencies(c *gin.Context) {
	as, err := s.Access.Agencies(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": as})
}

func (s *Server) rotateAgencyKey(c *gin.Context) {
	var req struct {
		GraceHours *int `json:"grace_hours"`
	}
	if err := decodeOptional(c, &req); err != nil {
		writeError(c, err)
		return
	}
	var grace time.Duration
	if req.GraceHours != nil {
		if *req.GraceHours < 0 || *req.GraceHours > 720 {
			writeError(c, domain.Invalid("grace_hours", "must be between 0 and 720"))
			return
		}
		grace = time.Duration(*req.GraceHours) * time.Hour
		if grace == 0 {
			grace = time.Nanosecond // 0 asked for: the old keys stop now
		}
	}
	key, until, err := s.Access.RotateAgencyKey(c.Request.Context(), c.Param("id"), grace)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, gin.H{"api_key": key.Secret, "previous_keys_valid_until": until})
}

func (s *Server) setWebhook(c *gin.Context) {
	var w domain.Webhook
	if err := decode(c, &w); err != nil {
		writeError(c, err)
		return
	}
	a, err := s.Access.SetWebhook(c.Request.Context(), c.Param("id"), w)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, a)
}

func (s *Server) queryAudit(c *gin.Context) {
	f := domain.AuditFilter{CaseID: c.Query("case"), ActorID: c.Query("actor"), Cursor: c.Query("cursor")}
	q := queryOf(c)
	f.From, f.To = q.Time("from", false), q.Time("to", true)
	q.Int("limit", &f.Limit)
	if !q.ok() {
		return
	}
	page, err := s.Access.Audit(c.Request.Context(), f)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, page)
}
