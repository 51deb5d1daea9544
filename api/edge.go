package api

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"carepath/domain"
)

// The edge: what every request meets before a handler, so that no handler has to think of a
// hostile client. A body is cut at its route's limit before anything reads it; text that
// PostgreSQL cannot store (NUL, invalid UTF-8) is refused naming the field; metrics labels come
// from closed sets; every answer says nosniff.

// defaultBodyLimit is the largest request body a route takes unless bodyLimits says otherwise.
const defaultBodyLimit = 1 << 20

// bodyLimits are the routes (gin's full path) whose bodies are smaller than the default: the
// relatives' lookup and contact request are public and their bodies are a few short strings.
var bodyLimits = map[string]int64{
	statusPath:                16 << 10,
	statusContactRequestsPath: 16 << 10,
}

func bodyLimit(route string) int64 {
	if n, ok := bodyLimits[route]; ok {
		return n
	}
	return defaultBodyLimit
}

func tooLarge(limit int64) error {
	return domain.ErrorOn(domain.ETOOLARGE, "body", "is larger than %d bytes", limit)
}

// limitBody refuses a body its Content-Length says is too large, and cuts any other at the
// limit (a chunked body has no length to look at): reading past it fails with
// *http.MaxBytesError, which readBody answers 413.
func (s *Server) limitBody(c *gin.Context) {
	limit := bodyLimit(c.FullPath())
	if c.Request.ContentLength > limit {
		// The rest of the body is not read: the connection closes after the answer.
		c.Header("Connection", "close")
		writeError(c, tooLarge(limit))
		return
	}
	if c.Request.Body != nil && c.Request.Body != http.NoBody {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	}
	c.Next()
}

// readBody reads the whole (limited) body and puts it back for the next reader.
func readBody(c *gin.Context) ([]byte, error) {
	if c.Request.Body == nil || c.Request.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tl *http.MaxBytesError
		if errors.As(err, &tl) {
			return nil, tooLarge(tl.Limit)
		}
		return nil, domain.Invalid("body", "cannot read the body: %v", err)
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(b))
	return b, nil
}

// secureHeaders are on every answer: no browser guesses a type the server did not send.
func secureHeaders(c *gin.Context) {
	c.Header("X-Content-Type-Options", "nosniff")
	c.Next()
}

// storableText reports whether PostgreSQL can store s as text: valid UTF-8 without NUL.
func storableText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

func unstorable(field string) error {
	return domain.Invalid(field, "holds a NUL character or bytes that are not UTF-8")
}

// checkText refuses, naming the field, a path parameter, query parameter or JSON string (key or
// value) that PostgreSQL could not store. A body that is not JSON is left to the validator.
func checkText(c *gin.Context, body []byte) error {
	for _, p := range c.Params {
		if !storableText(p.Value) {
			return unstorable(p.Key)
		}
	}
	for k, vs := range c.Request.URL.Query() {
		if !storableText(k) {
			return unstorable("query")
		}
		for _, v := range vs {
			if !storableText(v) {
				return unstorable(k)
			}
		}
	}
	if field, ok := unstorableJSON(body); ok {
		return unstorable(field)
	}
	return nil
}

// unstorableJSON walks a JSON document's tokens and names the first string that is not
// storable text, as a dotted path ("contacts.0.name"). encoding/json turns invalid UTF-8 into
// U+FFFD while decoding, so each string's raw bytes are looked at too.
func unstorableJSON(body []byte) (string, bool) {
	if len(body) == 0 || utf8.Valid(body) && bytes.IndexByte(body, 0) < 0 && !bytes.Contains(body, []byte(`\u0000`)) {
		return "", false // the common case, without the walk
	}
	type frame struct {
		object, wantKey bool
		key             string
		index           int
	}
	var stack []frame
	path := func() string {
		var parts []string
		for _, f := range stack {
			if f.object {
				parts = append(parts, f.key)
			} else {
				parts = append(parts, strconv.Itoa(f.index))
			}
		}
		if len(parts) == 0 {
			return "body"
		}
		return strings.Join(parts, ".")
	}
	afterValue := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].object {
				stack[n-1].wantKey = true
			} else {
				stack[n-1].index++
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var prev int64
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false // not JSON (or the end): the validator and decoder answer it
		}
		raw := body[prev:dec.InputOffset()]
		prev = dec.InputOffset()
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, frame{object: true, wantKey: true})
			case '[':
				stack = append(stack, frame{})
			default:
				stack = stack[:len(stack)-1]
				afterValue()
			}
		case string:
			bad := !utf8.Valid(raw) || strings.IndexByte(t, 0) >= 0
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
				if bad {
					stack = stack[:n-1] // name the object that holds the key
					return path(), true
				}
				stack[n-1].key, stack[n-1].wantKey = t, false
				continue
			}
			if bad {
				return path(), true
			}
			afterValue()
		default:
			afterValue()
		}
	}
}

// knownMethods are the methods a metrics label may name; any other is "other", so a client
// cannot add series by inventing methods.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

func methodLabel(m string) string {
	if knownMethods[m] {
		return m
	}
	return "other"
}

// metricsAccess lets only METRICS_TOKEN read /metrics; with no token set /metrics is not
// served on the API's listener at all.
func (s *Server) metricsAccess(c *gin.Context) {
	if s.MetricsToken == "" {
		writeError(c, domain.Errorf(domain.ENOTFOUND, "no such route"))
		return
	}
	token, ok := bearerToken(c)
	got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(s.MetricsToken))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !ok {
		c.Header("WWW-Authenticate", `Bearer realm="carepath metrics"`)
		writeError(c, domain.Errorf(domain.EUNAUTHORIZED, "send Authorization: Bearer <METRICS_TOKEN>"))
		return
	}
	c.Next()
}

// opsCSP forbids framing the queue monitor and sending its forms elsewhere; its scripts are
// asynqmon's own bundle, so script sources are left to it.
const opsCSP = "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'; font-src 'self' data:"

// opsGuard protects the queue monitor: the browser resends its HTTP Basic credentials by
// itself, so a state-changing request must come from the monitor's own pages (same origin, by
// Sec-Fetch-Site or Origin); and the monitor may not be framed.
func (s *Server) opsGuard(c *gin.Context) {
	c.Header("Content-Security-Policy", opsCSP)
	c.Header("X-Frame-Options", "DENY")
	if err := s.crossOrigin.Check(c.Request); err != nil {
		writeError(c, domain.Errorf(domain.EFORBIDDEN, "a cross-origin request may not change the queues"))
		return
	}
	c.Next()
}

// headAsGet answers HEAD as GET without the body (net/http drops a HEAD answer's body), so
// every GET route answers HEAD.
func headAsGet(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			get := *r
			get.Method = http.MethodGet
			r = &get
		}
		h.ServeHTTP(w, r)
	})
}

// allowedMethods are the methods some route serves at path (GET brings HEAD), for 405's Allow.
func allowedMethods(routes gin.RoutesInfo, path string) []string {
	var out []string
	for _, rt := range routes {
		if routeMatches(rt.Path, path) && !slices.Contains(out, rt.Method) {
			out = append(out, rt.Method)
			if rt.Method == http.MethodGet {
				out = append(out, http.MethodHead)
			}
		}
	}
	slices.Sort(out)
	return out
}

// routeMatches reports whether a gin route template (":id" a segment, "*path" the rest) matches
// a request path.
func routeMatches(template, path string) bool {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	for i, t := range ts {
		if strings.HasPrefix(t, "*") {
			return true
		}
		if i >= len(ps) || strings.HasPrefix(t, ":") && ps[i] == "" || !strings.HasPrefix(t, ":") && t != ps[i] {
			return false
		}
	}
	return len(ts) == len(ps)
}

// maxInstance is the longest path a problem names as its instance: an answer must not grow with
// a hostile URL.
const maxInstance = 512

func instanceOf(path string) string {
	if len(path) > maxInstance {
		return ""
	}
	return path
}
