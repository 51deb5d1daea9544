package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"carepath/domain"
)

// Editing what changes: the applicant's facts, and the relatives and representatives
// (domain/edit.go). Each takes If-Match and answers with the case.

func (s *Server) editFacts(c *gin.Context) {
	version, err := ifMatch(c, true)
	if err != nil {
		writeError(c, err)
		return
	}
	var p domain.FactsPatch
	if err := decode(c, &p); err != nil {
		writeError(c, err)
		return
	}
	cs, err := s.Cases.EditFacts(c.Request.Context(), commandActor(c), c.Param("id"), version, p)
	if err != nil {
		writeError(c, err)
		return
	}
	s.writeChanged(c, http.StatusOK, cs, "")
}

func (s *Server) addRelative(c *gin.Context) {
	version, err := ifMatch(c, true)
	if err != nil {
		writeError(c, err)
		return
	}
	var ct domain.Contact
	if err := decode(c, &ct); err != nil {
		writeError(c, err)
		return
	}
	cs, err := s.Cases.AddContact(c.Request.Context(), commandActor(c), c.Param("id"), version, ct)
	if err != nil {
		writeError(c, err)
		return
	}
	s.writeChanged(c, http.StatusOK, cs, "")
}

// relativeIndex reads the contact's place in the case's list; a place that is not a number is
// no contact at all.
func relativeIndex(c *gin.Context) (int, error) {
	i, err := strconv.Atoi(c.Param("index"))
	if err != nil || i < 0 || i > 1000 {
		return 0, domain.Errorf(domain.ENOTFOUND, "relative %s not found", c.Param("index"))
	}
	return i, nil
}

func (s *Server) editRelative(c *gin.Context) {
	version, err := ifMatch(c, true)
	if err != nil {
		writeError(c, err)
		return
	}
	i, err := relativeIndex(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var ct domain.Contact
	if err := decode(c, &ct); err != nil {
		writeError(c, err)
		return
	}
	cs, err := s.Cases.EditContact(c.Request.Context(), commandActor(c), c.Param("id"), version, i, ct)
	if err != nil {
		writeError(c, err)
		return
	}
	s.writeChanged(c, http.StatusOK, cs, "")
}

func (s *Server) removeRelative(c *gin.Context) {
	version, err := ifMatch(c, true)
	if err != nil {
		writeError(c, err)
		return
	}
	i, err := relativeIndex(c)
	if err != nil {
		writeError(c, err)
		return
	}
	cs, err := s.Cases.RemoveContact(c.Request.Context(), commandActor(c), c.Param("id"), version, i)
	if err != nil {
		writeError(c, err)
		return
	}
	s.writeChanged(c, http.StatusOK, cs, "")
}
