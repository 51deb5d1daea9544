package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"carepath/domain"
)

// The waiting list, its priorities and a case's placement (issue 17).

func (s *Server) listPriorities(c *gin.Context) {
	ps, err := s.Cases.Priorities(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": ps})
}

func (s *Server) setPriority(c *gin.Context) {
	var p domain.PriorityCategory
	if err := decode(c, &p); err != nil {
		writeError(c, err)
		return
	}
	p.Code = c.Param("code")
	out, err := s.Cases.SetPriority(c.Request.Context(), p)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) waitingList(c *gin.Context) {
	f := domain.WaitingFilter{FacilityType: domain.FacilityType(c.Query("facility_type")), FacilityID: c.Query("facility_id"),
		District: c.Query("district"), Cursor: c.Query("cursor")}
	if !queryOf(c).Int("limit", &f.Limit).ok() {
		return
	}
	page, err := s.Cases.WaitingList(c.Request.Context(), f)
	if err != nil {
		writeError(c, err)
		return
	}
	if !auditedList(s, c, page.Items, func(e domain.WaitingEntry) string { return e.CaseID }) {
		return
	}
	c.JSON(http.StatusOK, page)
}

func (s *Server) getPlacement(c *gin.Context) {
	p, err := s.Cases.CasePlacement(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	est, err := s.Cases.CaseWaitEstimate(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	if !s.audited(c, c.Param("id")) {
		return
	}
	c.JSON(http.StatusOK, gin.H{"placement": p, "estimate": est})
}

func (s *Server) setPlacement(c *gin.Context) {
	version, err := ifMatch(c, true)
	if err != nil {
		writeError(c, err)
		return
	}
	var p domain.Placement
	if err := decode(c, &p); err != nil {
		writeError(c, err)
		return
	}
	cs, err := s.Cases.SetPlacement(c.Request.Context(), actorOf(c), c.Param("id"), version, p)
	if err != nil {
		writeError(c, err)
		return
	}
	s.writeCase(c, http.StatusOK, cs, "")
}

func (s *Server) listOffers(c *gin.Context) {
	state := domain.OfferState(c.Query("state"))
	var os []domain.Offer
	var err error
	if id := c.Query("case_id"); id != "" {
		os, err = s.Cases.CaseOffers(c.Request.Context(), id, state)
	} else {
		os, err = s.Cases.Offers(c.Request.Context(), state)
	}
	if err != nil {
		writeError(c, err)
		return
	}
	if !auditedList(s, c, os, func(o domain.Offer) string { return o.CaseID }) {
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": os})
}

func (s *Server) listDeclineReasons(c *gin.Context) {
	rs, err := s.Cases.DeclineReasons(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": rs})
}

func (s *Server) acceptOffer(c *gin.Context) {
	cs, err := s.Cases.AcceptOffer(c.Request.Context(), actorOf(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	s.writeCase(c, http.StatusOK, cs, "")
}

func (s *Server) declineOffer(c *gin.Context) {
	var d domain.OfferDecline
	if err := decode(c, &d); err != nil {
		writeError(c, err)
		return
	}
	o, err := s.Cases.DeclineOffer(c.Request.Context(), actorOf(c), c.Param("id"), d)
	if err != nil {
		writeError(c, err)
		return
	}
	if !s.audited(c, o.CaseID) {
		return
	}
	c.JSON(http.StatusOK, o)
}

// auditedList logs the access to the cases a list shows (nothing for an empty list).
func auditedList[T any](s *Server, c *gin.Context, items []T, caseID func(T) string) bool {
	if len(items) == 0 {
		return true
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = caseID(it)
	}
	return s.audited(c, ids...)
}
