package api

import (
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes lists every route of the service in one place.
func (s *Server) routes(r *gin.Engine) {
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/openapi.yaml", s.openapiYAML)
	r.GET("/docs", s.docsPage)
	r.GET("/static/*path", s.static)

	// Pages for people (web/pages): they fetch their data from /api/v1 like any other client.
	r.GET("/", s.page("index.html"))
	r.GET("/status", s.page("status.html")) // relatives: case number + access code
	r.GET("/console", s.page("console.html"))
	r.GET("/console/new", s.page("console.html"))
	r.GET("/console/cases/:id", s.page("console.html"))
	r.GET("/console/reference.js", s.consoleReference)

	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})))

	v1 := r.Group("/api/v1", s.validate)
	v1.GET("/lifecycle", s.getLifecycle)

	authed := v1.Group("", s.authenticate)
	authed.GET("/facilities", s.listFacilities)
	authed.POST("/cases", s.createCase)
	authed.GET("/cases", s.listCases)
	authed.GET("/cases/:id", s.getCase)
	authed.POST("/cases/:id/events", s.fireEvent)
	authed.PUT("/cases/:id/documents/:type", s.recordDocument)
	authed.GET("/cases/:id/history", s.getHistory)
}
