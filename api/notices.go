package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"carepath/domain"
)

// Notices carry names and addresses: showing them is a read of the case, and is logged.
func (s *Server) listCaseNotices(c *gin.Context) {
	ns, err := s.Cases.Notices(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	if !s.audited(c, c.Param("id")) {
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": ns})
}

func (s *Server) retryNotice(c *gin.Context) {
	n, err := s.Cases.RetryNotice(c.Request.Context(), actorOf(c), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	if !s.audited(c, n.CaseID) {
		return
	}
	c.JSON(http.StatusAccepted, n)
}

// basicAsBearer lets a browser reach the operations pages: a browser cannot add a bearer header
// to a page's own requests, but it does resend HTTP Basic credentials, so the token is accepted
// as the Basic password and the browser's login prompt is offered to a request without any.
func (s *Server) basicAsBearer(c *gin.Context) {
	if _, token, ok := c.Request.BasicAuth(); ok {
		c.Request.Header.Set("Authorization", "Bearer "+token)
	} else if c.GetHeader("Authorization") == "" {
		c.Header("WWW-Authenticate", `Basic realm="carepath ops", charset="UTF-8"`)
		writeError(c, domain.Errorf(domain.EUNAUTHORIZED, "sign in with your token as the password"))
		return
	}
	c.Next()
}
