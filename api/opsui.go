package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
)

// offHostLink matches a <link> to another host in asynqmon's page: its index.html asks Google
// Fonts for Roboto and Material Icons. The monitor is for the center's network, which may have
// no internet, and carepath promises its pages load nothing from another host; without them
// the monitor uses the system's sans-serif (its icons are SVG).
var offHostLink = regexp.MustCompile(`<link[^>]+href="(?:https?:)?//[^"]*"[^>]*>`)

// selfContainedOps serves the queue monitor with every off-host <link> removed from its HTML.
func selfContainedOps(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || strings.Contains(r.URL.Path, "/api/") || strings.Contains(r.URL.Path, "/static/") {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			body = offHostLink.ReplaceAll(body, nil)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(bytes.Clone(body))
	})
}
