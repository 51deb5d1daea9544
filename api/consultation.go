package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"carepath/domain"
)

// defaultPreviewPerMinute is how many consultations one client address may ask for a minute
// when Server.PreviewPerMinute is not set.
const defaultPreviewPerMinute = 30

// previewChecklist answers "which documents do I need?" for anyone, signed in or not, from the
// rules that build a case's checklist; limited per client address.
func (s *Server) previewChecklist() gin.HandlerFunc {
	limiter := limiterOr(s.PreviewPerMinute, defaultPreviewPerMinute, time.Minute)
	return func(c *gin.Context) {
		if limiter.limited(c) {
			return
		}
		var q domain.ChecklistQuestion
		if err := decode(c, &q); err != nil {
			writeError(c, err)
			return
		}
		advice, err := domain.PreviewChecklist(s.Cases.Settings, q)
		if err != nil {
			writeError(c, err)
			return
		}
		c.JSON(http.StatusOK, advice)
	}
}
