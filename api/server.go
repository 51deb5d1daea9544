// Package api is carepath's HTTP edge: gin routes, authentication, request validation against
// openapi.yaml, problem+json errors, metrics and the pages for people. A handler decodes, calls
// one domain method and encodes; it decides nothing about cases.
package api

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
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

// BootstrapToken authenticates the single development token of BOOTSTRAP_ADMIN_TOKEN as an
// admin, so that nothing ships open before real identities exist.
type BootstrapToken string

// Authenticate implements Authenticator.
func (t BootstrapToken) Authenticate(_ context.Context, bearer string) (domain.Actor, error) {
	if t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(bearer)) == 1 {
		return domain.Actor{ID: "bootstrap-admin", Name: "bootstrap admin", Kind: "user", Role: "admin"}, nil
	}
	return domain.Actor{}, domain.Errorf(domain.EUNAUTHORIZED, "the bearer token is not valid")
}

// Server holds what the handlers need.
type Server struct {
	Cases  *domain.Service
	Auth   Authenticator
	Checks []Check
	Logger *slog.Logger
	// Registry receives the HTTP metrics; /metrics serves it.
	Registry *prometheus.Registry
	// Extra lets other parts (the worker's ops UI) add routes.
	Extra func(r *gin.Engine)

	engine  *gin.Engine
	spec    *openapi3.T
	router  routers.Router
	metrics *httpMetrics
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
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	r.Use(s.requestID, s.observe, s.recoverPanic)
	r.NoRoute(func(c *gin.Context) {
		writeError(c, domain.Errorf(domain.ENOTFOUND, "no route %s %s", c.Request.Method, c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		c.Header("Allow", strings.Join(allowedMethods(r, c.Request.URL.Path), ", "))
		writeProblem(c, http.StatusMethodNotAllowed, &domain.Error{Code: domain.EINVALID, Message: "method " + c.Request.Method + " is not allowed here"})
	})
	s.routes(r)
	if s.Extra != nil {
		s.Extra(r)
	}
	s.engine = r
	return r, nil
}

// Routes lists every route the handler serves (for the contract and access-matrix tests).
func (s *Server) Routes() gin.RoutesInfo { return s.engine.Routes() }

func allowedMethods(r *gin.Engine, path string) []string {
	var out []string
	for _, rt := range r.Routes() {
		if rt.Path == path {
			out = append(out, rt.Method)
		}
	}
	return out
}

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
