package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// workload is the supervisors' view of who holds how much open work (GET /workload).
func (s *Server) workload(c *gin.Context) {
	people, unassigned, err := s.Cases.Workload(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": people, "unassigned": gin.H{
		"open_cases": unassigned.OpenCases, "overdue": unassigned.Overdue, "at_risk": unassigned.AtRisk}})
}

// agencyDirectory lists agencies by kind for the console's pickers (GET /agency-directory).
func (s *Server) agencyDirectory(c *gin.Context) {
	items, err := s.Access.AgencyDirectory(c.Request.Context(), c.Query("kind"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}
