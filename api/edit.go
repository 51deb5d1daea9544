package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"carepath/domain"
)

// Editing what changes: the applicant's facts, and the relatives and representatives
// (domain/edit.go). Each takes If-Match and answers with the case.

// caseEdit is an edit's command, given who makes it, the case's id and the version If-Match names.
type caseEdit func(ctx context.Context, actor domain.Actor, caseID string, version int) (*domain.Case, error)

// editCase answers one edit: the version from If-Match, then the command, then the case as it
// now is (or the problem). read parses the rest of the request (the body, the relative's place)
// and returns the command to run.
func (s *Server) editCase(c *gin.Context, read func() (caseEdit, error)) {
	version, err := ifMatch(c, true)
	if err != nil {
		writeError(c, err)
		return
	}
	run, err := read()
	if err != nil {
		writeError(c, err)
		return
	}
	cs, err := run(c.Request.Context(), commandActor(c), c.Param("id"), version)
	if err != nil {
		writeError(c, err)
		return
	}
	s.writeChanged(c, http.StatusOK, cs, "")
}

func (s *Server) editFacts(c *gin.Context) {
	s.editCase(c, func() (caseEdit, error) {
		var p domain.FactsPatch
		if err := decode(c, &p); err != nil {
			return nil, err
		}
		return func(ctx context.Context, a domain.Actor, id string, v int) (*domain.Case, error) {
			return s.Cases.EditFacts(ctx, a, id, v, p)
		}, nil
	})
}

func (s *Server) addRelative(c *gin.Context) {
	s.editCase(c, func() (caseEdit, error) {
		var ct domain.Contact
		if err := decode(c, &ct); err != nil {
			return nil, err
		}
		return func(ctx context.Context, a domain.Actor, id string, v int) (*domain.Case, error) {
			return s.Cases.AddContact(ctx, a, id, v, ct)
		}, nil
	})
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
	s.editCase(c, func() (caseEdit, error) {
		i, err := relativeIndex(c)
		if err != nil {
			return nil, err
		}
		var ct domain.Contact
		if err := decode(c, &ct); err != nil {
			return nil, err
		}
		return func(ctx context.Context, a domain.Actor, id string, v int) (*domain.Case, error) {
			return s.Cases.EditContact(ctx, a, id, v, i, ct)
		}, nil
	})
}

func (s *Server) removeRelative(c *gin.Context) {
	s.editCase(c, func() (caseEdit, error) {
		i, err := relativeIndex(c)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, a domain.Actor, id string, v int) (*domain.Case, error) {
			return s.Cases.RemoveContact(ctx, a, id, v, i)
		}, nil
	})
}
