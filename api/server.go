// Package api is carepath's HTTP edge: gin routes, authentication, request validation against
// openapi.yaml, problem+json errors, metrics and the pages for people. A handler decodes, calls
// one domain method and encodes; it decides nothing about cases.
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"carepath"
	"carepath/domain"
)

// Check is one dependency /readyz asks.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Authenticator turns a bearer credential into an actor; EUNAUTHORIZED when it is not valid.
type Authenticator interface {
	Authenticate(ctx context.Context, bearer string) (domain.Actor, error)
}

// Server holds what the handlers need.
type Server struct {
	Cases *domain.Service
	// Access answers the relatives' lookup, manages identities and keeps the access log.
	Access *domain.Access
	// PreviewPerMinute limits the public documents consultation per client address (default 30).
	PreviewPerMinute int
	// ContactRequestsPerHour limits the status page's contact requests per client address
	// (default 10).
	ContactRequestsPerHour int
	// Hotline logs the contacts of the center's phone desk.
	Hotline *domain.Hotline
	// Figures computes the center's figures (issue 19).
	Figures *domain.Figures
	Auth    Authenticator
	// TrustedProxies may set X-Forwarded-For (the client address the lookup lockout counts);
	// none by default, so the address is the peer's.
	TrustedProxies []string
	Checks         []Check
	Logger         *slog.Logger
	// Registry receives the HTTP metrics; /metrics serves it.
	Registry *prometheus.Registry
	// Extra lets other parts add routes.
	Extra func(r *gin.Engine)
	// Ops is the queue monitoring UI (asynqmon), mounted at /ops/queues for admins.
	Ops http.Handler
	// MetricsToken is the bearer token /metrics asks for; empty: /metrics is not served here.
	MetricsToken string

	engine  *gin.Engine
	actions map[string]domain.Action
	spec    *openapi3.T
	router  routers.Router
	// operations are the contract's operations by gin route (loadSpec).
	operations map[string]*routers.Route
	metrics    *httpMetrics
	// crossOrigin refuses cross-site state changes on the queue monitor.
	crossOrigin *http.CrossOriginProtection
	// noStatusFastPath sends every status lookup through the generic validation, decoding and
	// encoding (tests compare the two paths).
	noStatusFastPath atomic.Bool
}

// Handler builds the gin engine with every route.
func (s *Server) Handler() (http.Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Registry == nil {
		s.Registry = prometheus.NewRegistry()
	}
	if err := s.loadSpec(); err != nil {
		return nil, err
	}
	s.metrics = newHTTPMetrics(s.Registry)
	s.crossOrigin = http.NewCrossOriginProtection()
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	if err := r.SetTrustedProxies(s.TrustedProxies); err != nil {
		return nil, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	r.Use(s.requestID, s.observe, s.recoverPanic, secureHeaders, s.limitBody)
	r.NoRoute(func(c *gin.Context) {
		// Neither the path nor the method is echoed: an answer must not grow with the request.
		writeError(c, domain.Errorf(domain.ENOTFOUND, "no such route"))
	})
	r.NoMethod(func(c *gin.Context) {
		c.Header("Allow", strings.Join(allowedMethods(r.Routes(), c.Request.URL.Path), ", "))
		writeProblem(c, http.StatusMethodNotAllowed, domain.Errorf(domain.EINVALID, "this method is not allowed here; Allow lists those that are"))
	})
	s.routes(r)
	if s.Extra != nil {
		s.Extra(r)
	}
	s.engine = r
	return headAsGet(r), nil
}

// Routes lists every route the handler serves (for the contract and access-matrix tests).
func (s *Server) Routes() gin.RoutesInfo { return s.engine.Routes() }

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz asks every dependency at once with a short timeout and names the ones that fail.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	type result struct {
		name string
		err  error
	}
	results := make(chan result, len(s.Checks))
	for _, ch := range s.Checks {
		go func() { results <- result{ch.Name, ch.Ping(ctx)} }()
	}
	checks := map[string]string{}
	var down []string
	for range s.Checks {
		r := <-results
		if r.err != nil {
			checks[r.name] = "down: " + r.err.Error()
			down = append(down, r.name)
		} else {
			checks[r.name] = "ok"
		}
	}
	if len(down) > 0 {
		writeError(c, domain.Errorf(domain.EUNAVAILABLE, "not ready: %s unreachable", strings.Join(down, " and ")))
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok", "checks": checks})
}

func (s *Server) openapiYAML(c *gin.Context) {
	c.Data(http.StatusOK, "application/yaml; charset=utf-8", carepath.OpenAPI)
}
