package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"carepath/domain"
)

// The homes registry and the homes' beds reports (issue 17).

type sectionView struct {
	domain.Section
	Free int `json:"free"`
}

type facilityView struct {
	domain.Facility
	FreeBeds int           `json:"free_beds"`
	Stale    bool          `json:"stale"`
	Sections []sectionView `json:"sections"`
}

func (s *Server) facilityView(f domain.Facility, now time.Time) facilityView {
	v := facilityView{Facility: f, FreeBeds: f.Capacity - f.Taken, Stale: f.Stale(now, s.Cases.Settings.BedReportDays()),
		Sections: make([]sectionView, len(f.Sections))}
	for i, sec := range f.Sections {
		v.Sections[i] = sectionView{sec, sec.Free()}
	}
	return v
}

func (s *Server) writeFacility(c *gin.Context, status int, f *domain.Facility) {
	c.Header("ETag", etag(f.Version))
	c.JSON(status, s.facilityView(*f, time.Now()))
}

func (s *Server) listFacilities(c *gin.Context) {
	fs, err := s.Cases.ListFacilities(c.Request.Context(), domain.FacilityFilter{Type: domain.FacilityType(c.Query("type")), District: c.Query("district")})
	s.writeFacilities(c, fs, err)
}

// writeFacilities answers with the homes' views, or with the error that kept them.
func (s *Server) writeFacilities(c *gin.Context, fs []domain.Facility, err error) {
	if err != nil {
		writeError(c, err)
		return
	}
	now := time.Now()
	out := make([]facilityView, len(fs))
	for i, f := range fs {
		out[i] = s.facilityView(f, now)
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}

func (s *Server) createFacility(c *gin.Context) {
	var f domain.Facility
	if err := decode(c, &f); err != nil {
		writeError(c, err)
		return
	}
	out, err := s.Cases.CreateFacility(c.Request.Context(), f)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Location", "/api/v1/facilities/"+out.ID)
	s.writeFacility(c, http.StatusCreated, out)
}

func (s *Server) getFacility(c *gin.Context) {
	f, err := s.Cases.Facility(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, err)
		return
	}
	s.writeFacility(c, http.StatusOK, f)
}

func (s *Server) patchFacility(c *gin.Context) {
	version, err := ifMatch(c, true)
	if err != nil {
		writeError(c, err)
		return
	}
	var p domain.FacilityPatch
	if err := decode(c, &p); err != nil {
		writeError(c, err)
		return
	}
	f, err := s.Cases.UpdateFacility(c.Request.Context(), c.Param("id"), version, p)
	if err != nil {
		writeError(c, err)
		return
	}
	s.writeFacility(c, http.StatusOK, f)
}

func (s *Server) reportBeds(c *gin.Context) {
	var r domain.BedReport
	if err := decode(c, &r); err != nil {
		writeError(c, err)
		return
	}
	f, err := s.Cases.ReportBeds(c.Request.Context(), actorOf(c), c.Param("id"), r)
	if err != nil {
		writeError(c, err)
		return
	}
	s.writeFacility(c, http.StatusOK, f)
}

// listAgencyFacilities is a facility agency's own homes with their sections (the partner page).
func (s *Server) listAgencyFacilities(c *gin.Context) {
	fs, err := s.Cases.AgencyFacilities(c.Request.Context(), actorOf(c))
	s.writeFacilities(c, fs, err)
}
