package api

import (
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"carepath/domain"
)

// routes lists every route of the service in one place, each /api/v1 route with the action it
// needs (domain/access.go decides who may do it; the role matrix test walks this list).
func (s *Server) routes(r *gin.Engine) {
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/openapi.yaml", s.openapiYAML)
	r.GET("/docs", s.docsPage)
	r.GET("/static/*path", s.static)

	// Pages for people (web/pages): they fetch their data from /api/v1 like any other client.
	r.GET("/", s.page("index.html"))
	r.GET("/status", s.page("status.html"))       // relatives: case number + access code
	r.GET("/documents", s.page("documents.html")) // anyone: which documents are needed
	r.GET("/console", s.page("console.html"))
	r.GET("/console/new", s.page("console.html"))
	r.GET("/console/follow-ups", s.page("console.html"))
	r.GET("/console/leads", s.page("console.html"))
	r.GET("/console/contact-requests", s.page("console.html"))
	r.GET("/console/mine", s.page("console.html"))
	r.GET("/console/supervisor", s.page("console.html"))
	r.GET("/console/lifecycle", s.page("console.html"))
	r.GET("/console/cases/:id", s.page("console.html"))
	// The placement pages (issue 17): web/static/console-placement.js.
	r.GET("/console/waiting-list", s.page("console.html"))
	r.GET("/console/beds", s.page("console.html"))
	r.GET("/console/offers", s.page("console.html"))
	r.GET("/console/homes/:id", s.page("console.html"))
	r.GET("/console/stats", s.page("console.html"))
	r.GET("/console/reference.js", s.consoleReference)
	r.GET("/partner", s.page("partner.html")) // a facility agency reports its beds with its key

	r.GET("/metrics", s.metricsAccess, gin.WrapH(promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})))

	// Authentication and the route's action come before validation: a request without a valid
	// credential, or for a route its actor may not use, hears 401, 403 or 404 and never what is
	// wrong with its input.
	v1 := r.Group("/api/v1")
	pub, authed := routeGroup{s, v1, false}, routeGroup{s, v1.Group("", s.authenticate), true}

	pub.handle("GET", "/lifecycle", domain.ActPublic, s.getLifecycle)
	pub.handle("POST", "/status", domain.ActPublic, s.lookupStatus)

	authed.handle("GET", "/me", domain.ActSelf, s.getMe)
	authed.handle("GET", "/facilities", domain.ActFacilitiesRead, s.listFacilities)
	authed.handle("POST", "/cases", domain.ActCaseCreate, s.createCase)
	authed.handle("GET", "/cases", domain.ActCaseRead, s.listCases)
	authed.handle("GET", "/cases/:id", domain.ActCaseRead, s.getCase)
	authed.handle("POST", "/cases/:id/events", domain.ActCaseEvent, s.fireEvent)
	authed.handle("PUT", "/cases/:id/documents/:type", domain.ActCaseDocument, s.recordDocument)
	authed.handle("GET", "/cases/:id/history", domain.ActCaseRead, s.getHistory)
	authed.handle("POST", "/cases/:id/access-code", domain.ActCaseAccessCode, s.rotateAccessCode)
	authed.handle("POST", "/cases/:id/assignee", domain.ActCaseReassign, s.reassign)
	authed.handle("PATCH", "/cases/:id/facts", domain.ActCaseEdit, s.editFacts)
	authed.handle("POST", "/cases/:id/relatives", domain.ActCaseEdit, s.addRelative)
	authed.handle("PUT", "/cases/:id/relatives/:index", domain.ActCaseEdit, s.editRelative)
	authed.handle("DELETE", "/cases/:id/relatives/:index", domain.ActCaseEdit, s.removeRelative)
	authed.handle("GET", "/deadlines", domain.ActDeadlinesRead, s.listDeadlines)
	authed.handle("GET", "/workload", domain.ActDeadlinesAll, s.workload)
	authed.handle("GET", "/agency-directory", domain.ActCaseCreate, s.agencyDirectory)
	authed.handle("GET", "/cases/:id/notices", domain.ActNotices, s.listCaseNotices)
	authed.handle("POST", "/notices/:id/retry", domain.ActNotices, s.retryNotice)

	authed.handle("GET", "/agency/cases", domain.ActAgencyCases, s.listAgencyCases)
	authed.handle("GET", "/agency/cases/:id", domain.ActAgencyCases, s.getAgencyCase)
	authed.handle("PUT", "/agency/facilities/:id/beds", domain.ActFacilityBeds, s.reportBeds)
	authed.handle("GET", "/agency/facilities", domain.ActFacilityBeds, s.listAgencyFacilities)

	authed.handle("GET", "/users", domain.ActUsersManage, s.listUsers)
	authed.handle("POST", "/users", domain.ActUsersManage, s.createUser)
	authed.handle("POST", "/users/:id/tokens", domain.ActUsersManage, s.issueToken)
	authed.handle("DELETE", "/users/:id/tokens", domain.ActUsersManage, s.revokeTokens)
	authed.handle("GET", "/agencies", domain.ActAgenciesManage, s.listAgencies)
	authed.handle("POST", "/agencies", domain.ActAgenciesManage, s.createAgency)
	authed.handle("POST", "/agencies/:id/keys", domain.ActAgenciesManage, s.rotateAgencyKey)
	authed.handle("PUT", "/agencies/:id/webhook", domain.ActAgenciesManage, s.setWebhook)
	authed.handle("GET", "/audit", domain.ActAuditRead, s.queryAudit)

	// The hotline's desk (issue 18).
	authed.handle("POST", "/contacts", domain.ActContacts, s.logContact)
	authed.handle("GET", "/contacts", domain.ActContacts, s.findContacts)
	authed.handle("GET", "/cases/:id/contacts", domain.ActContacts, s.caseContacts)
	pub.handle("POST", "/checklist-preview", domain.ActPublic, s.previewChecklist())
	authed.handle("POST", "/cases/:id/contact-requests", domain.ActContacts, s.requestContact)
	pub.handle("POST", "/status/contact-requests", domain.ActPublic, s.requestContactByCode())
	authed.handle("GET", "/contact-requests", domain.ActContacts, s.listContactRequests)
	authed.handle("POST", "/contact-requests/:id/done", domain.ActContactRequestDone, s.completeContactRequest)
	authed.handle("POST", "/leads", domain.ActLeadSubmit, s.submitLead)
	authed.handle("GET", "/leads", domain.ActLeadsRead, s.listLeads)
	authed.handle("POST", "/leads/:id/triage", domain.ActLeadsTriage, s.triageLead)
	authed.handle("POST", "/leads/:id/convert", domain.ActLeadsTriage, s.convertLead)
	// Homes, beds by section, the waiting list and offers (issue 17).
	authed.handle("POST", "/facilities", domain.ActFacilitiesManage, s.createFacility)
	authed.handle("GET", "/facilities/:id", domain.ActFacilitiesRead, s.getFacility)
	authed.handle("PATCH", "/facilities/:id", domain.ActFacilitiesManage, s.patchFacility)
	authed.handle("GET", "/priorities", domain.ActFacilitiesRead, s.listPriorities)
	authed.handle("PUT", "/priorities/:code", domain.ActPrioritiesManage, s.setPriority)
	authed.handle("GET", "/waiting-list", domain.ActCaseRead, s.waitingList)
	authed.handle("GET", "/cases/:id/placement", domain.ActCaseRead, s.getPlacement)
	authed.handle("PUT", "/cases/:id/placement", domain.ActCasePlacement, s.setPlacement)
	authed.handle("GET", "/offers", domain.ActCaseRead, s.listOffers)
	authed.handle("GET", "/decline-reasons", domain.ActFacilitiesRead, s.listDeclineReasons)
	authed.handle("POST", "/offers/:id/accept", domain.ActCasePlacement, s.acceptOffer)
	authed.handle("POST", "/offers/:id/decline", domain.ActCasePlacement, s.declineOffer)

	// The center's figures and their exports (issue 19).
	authed.handle("GET", "/stats", domain.ActStatsRead, s.getStats)
	authed.handle("GET", "/stats/export.csv", domain.ActStatsRead, s.exportStatsCSV)
	authed.handle("GET", "/stats/export.xlsx", domain.ActStatsRead, s.exportStatsXLSX)

	// The job queue console (asynqmon) for admins; a browser signs in with HTTP Basic.
	if s.Ops != nil {
		ops := r.Group("/ops/queues", s.opsGuard, s.basicAsBearer, s.authenticate, s.allow(domain.ActOpsQueues))
		ui := gin.WrapH(selfContainedOps(s.Ops))
		ops.Any("", ui)
		ops.Any("/*path", ui)
	}
}

// routeGroup registers routes and remembers each one's action.
type routeGroup struct {
	s      *Server
	g      *gin.RouterGroup
	authed bool
}

func (rg routeGroup) handle(method, path string, act domain.Action, h gin.HandlerFunc) {
	full := rg.g.BasePath() + path
	if rg.s.actions == nil {
		rg.s.actions = map[string]domain.Action{}
	}
	rg.s.actions[method+" "+full] = act
	if rg.authed {
		rg.g.Handle(method, path, rg.s.allow(act), rg.s.validate, h)
		return
	}
	rg.g.Handle(method, path, rg.s.validate, h)
}

// RouteActions returns, for each /api/v1 route ("METHOD /path/:param"), the action it needs.
func (s *Server) RouteActions() map[string]domain.Action { return s.actions }
