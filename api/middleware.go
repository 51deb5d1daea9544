package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"carepath"
	"carepath/domain"
)

const (
	ctxRequestID = "request_id"
	ctxActor     = "actor"
)

var requestIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// requestIDPrefix and requestIDSeq make the ids of requests that come without one: random per
// process, then counted, so ids differ across instances and restarts without a read of the
// system's random source on every request.
var (
	requestIDPrefix = func() string {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b) + "-"
	}()
	requestIDSeq atomic.Uint64
)

// requestID accepts a sane X-Request-Id or makes one, and echoes it back.
func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if id == "" || !requestIDRe.MatchString(id) {
		id = requestIDPrefix + strconv.FormatUint(requestIDSeq.Add(1), 36)
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-Id", id)
	c.Next()
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// children caches each label set's counter and histogram: the vectors' own lookup hashes
	// the three labels twice per request.
	children sync.Map // metricKey -> *metricChildren
}

type metricKey struct {
	method, route string
	status        int
}

type metricChildren struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

func (m *httpMetrics) of(method, route string, status int) *metricChildren {
	k := metricKey{method, route, status}
	if v, ok := m.children.Load(k); ok {
		return v.(*metricChildren)
	}
	code := strconv.Itoa(status)
	v, _ := m.children.LoadOrStore(k, &metricChildren{m.requests.WithLabelValues(method, route, code), m.duration.WithLabelValues(method, route, code)})
	return v.(*metricChildren)
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "carepath_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "carepath_http_request_duration_seconds", Help: "HTTP request latency by method, route and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route", "status"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// observe logs one line per request and records its metrics.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	d := time.Since(start)
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	method := methodLabel(c.Request.Method)
	m := s.metrics.of(method, route, status)
	m.requests.Inc()
	m.duration.Observe(d.Seconds())
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.Logger.LogAttrs(c.Request.Context(), level, "request",
		slog.String("method", method), slog.String("route", route), slog.Int("status", status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000), slog.String("request_id", c.GetString(ctxRequestID)))
}

func (s *Server) recoverPanic(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			writeError(c, fmt.Errorf("panic: %v", p))
		}
	}()
	c.Next()
}

// bearerToken is the one reader of the Authorization header: the credential of the Bearer
// scheme, whose name is case-insensitive (RFC 9110 section 11.1); false when the header is
// missing, has another scheme or none, or an empty credential.
func bearerToken(c *gin.Context) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(c.GetHeader("Authorization")), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// authenticate requires a bearer credential and puts the actor in the context.
func (s *Server) authenticate(c *gin.Context) {
	token, ok := bearerToken(c)
	if !ok {
		c.Header("WWW-Authenticate", `Bearer realm="carepath"`)
		writeError(c, domain.Errorf(domain.EUNAUTHORIZED, "send Authorization: Bearer <token>"))
		return
	}
	actor, err := s.Auth.Authenticate(c.Request.Context(), token)
	if err != nil {
		c.Header("WWW-Authenticate", `Bearer realm="carepath", error="invalid_token"`)
		writeError(c, err)
		return
	}
	c.Set(ctxActor, actor)
	c.Next()
}

func actorOf(c *gin.Context) domain.Actor {
	a, _ := c.Get(ctxActor)
	actor, _ := a.(domain.Actor)
	return actor
}

func (s *Server) loadSpec() error {
	// The figures' CSV is Excel's (';' between cells), not the comma-separated kind the
	// validator would parse: its body is checked as text.
	openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.FileBodyDecoder)
	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromData(carepath.OpenAPI)
	if err != nil {
		return fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := spec.Validate(context.Background()); err != nil {
		return fmt.Errorf("openapi.yaml is not valid: %w", err)
	}
	// Match requests by path alone: the spec's servers entry is "/".
	spec.Servers = nil
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		return fmt.Errorf("route openapi.yaml: %w", err)
	}
	s.spec, s.router = spec, router
	// The contract's operations by gin's route ("POST /api/v1/cases/:id/events"): gin has
	// matched the request already, so the validator need not match it again (gorilla/mux's
	// matching was about a third of the validation's cost).
	s.operations = map[string]*routers.Route{}
	for path, item := range spec.Paths.Map() {
		ginPath := openAPIParam.ReplaceAllString(path, ":$1")
		for method, op := range item.Operations() {
			s.operations[method+" "+ginPath] = &routers.Route{Spec: spec, Path: path, PathItem: item, Method: method, Operation: op}
		}
	}
	return nil
}

// openAPIParam is a path parameter in the contract's paths ("{id}").
var openAPIParam = regexp.MustCompile(`\{([^}/]+)\}`)

// Spec returns the parsed contract (for tests that check responses against it).
func (s *Server) Spec() (*openapi3.T, routers.Router) { return s.spec, s.router }

// validate checks each request against openapi.yaml before a handler sees it: unknown fields,
// wrong types and missing parameters are answered 400 naming the field.
func (s *Server) validate(c *gin.Context) {
	if c.FullPath() == statusPath && !s.noStatusFastPath.Load() {
		// The relatives' lookup checks its own body (statusRequest): the same rules, the same
		// answers, without the generic validator's cost on the busiest public route.
		c.Next()
		return
	}
	if err := s.validateRequest(c); err != nil {
		writeError(c, err)
		return
	}
	c.Next()
}

// validateRequest refuses text PostgreSQL could not store (checkText) and checks the request
// against openapi.yaml, finding its operation by gin's route (every /api/v1 route is in the contract: TestEveryRouteIsInTheContract); nil for a
// request outside the contract.
func (s *Server) validateRequest(c *gin.Context) error {
	route, ok := s.operations[c.Request.Method+" "+c.FullPath()]
	if !ok {
		return nil
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if err := checkText(c, body); err != nil {
		return err
	}
	params := make(map[string]string, len(c.Params))
	for _, p := range c.Params {
		params[p.Key] = p.Value
	}
	in := &openapi3filter.RequestValidationInput{
		Request: c.Request, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	if err := openapi3filter.ValidateRequest(c.Request.Context(), in); err != nil {
		return requestProblem(err)
	}
	return nil
}

// requestProblem turns a kin-openapi validation error into an EINVALID naming the field.
func requestProblem(err error) error {
	var re *openapi3filter.RequestError
	if !errors.As(err, &re) {
		return domain.Invalid("", "%v", err)
	}
	field := ""
	if re.Parameter != nil {
		field = re.Parameter.Name
		if field == "If-Match" && errors.Is(re.Err, openapi3filter.ErrInvalidRequired) {
			return errIfMatchRequired()
		}
	}
	msg := re.Reason
	var se *openapi3.SchemaError
	if errors.As(re.Err, &se) {
		if p := se.JSONPointer(); len(p) > 0 {
			if field != "" {
				field += "."
			}
			field += strings.Join(p, ".")
		}
		msg = se.Reason
	} else if re.Err != nil {
		if msg != "" {
			msg += ": "
		}
		msg += re.Err.Error()
	}
	if msg == "" {
		msg = re.Error()
	}
	if field == "" && re.RequestBody != nil {
		field = "body"
	}
	return domain.Invalid(field, "%s", msg)
}
