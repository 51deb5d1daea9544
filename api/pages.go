package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"

	"carepath/domain"
	"carepath/web"
)

// pageCSP lets a page run only its own scripts and styles and talk only to this host, so that
// a name or note shown on a page can never run as code.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// assetVersion changes whenever a page's script or style changes; the pages ask for
// /static/x.js?v=<assetVersion>, so a browser never runs yesterday's script against today's API.
var assetVersion = func() string {
	sum := sha256.New()
	err := fs.WalkDir(web.Static, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(web.Static, path)
		sum.Write([]byte(path))
		sum.Write(b)
		return err
	})
	if err != nil {
		panic(err)
	}
	return hex.EncodeToString(sum.Sum(nil))[:12]
}()

// page serves one HTML shell of web/pages. The shells hold no data: their scripts fetch it from
// /api/v1 (the console with the specialist's token, the status page with number and code).
func (s *Server) page(name string) gin.HandlerFunc {
	b, err := fs.ReadFile(web.Pages, "pages/"+name)
	if err != nil {
		panic("web/pages/" + name + ": " + err.Error())
	}
	b = bytes.ReplaceAll(expandParts(b), []byte("{{v}}"), []byte(assetVersion))
	return func(c *gin.Context) {
		pageHeaders(c)
		c.Data(http.StatusOK, "text/html; charset=utf-8", b)
	}
}

// partRef is where a page takes in a part its pages share: {{parts/name.html}}.
var partRef = regexp.MustCompile(`\{\{(parts/[a-z-]+\.html)\}\}`)

// expandParts puts each part named in a page in its place (web/pages/parts: the public pages'
// header, written once).
func expandParts(page []byte) []byte {
	return partRef.ReplaceAllFunc(page, func(ref []byte) []byte {
		name := string(partRef.FindSubmatch(ref)[1])
		part, err := fs.ReadFile(web.Pages, "pages/"+name)
		if err != nil {
			panic("web/pages/" + name + ": " + err.Error())
		}
		return bytes.TrimSuffix(part, []byte("\n"))
	})
}

func pageHeaders(c *gin.Context) {
	c.Header("Content-Security-Policy", pageCSP)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Referrer-Policy", "no-referrer")
	c.Header("X-Frame-Options", "DENY")
	c.Header("Cache-Control", "no-cache")
}

// consoleReference is the lifecycle and checklist vocabulary for the console's script, derived
// from the domain's tables so the pages never carry a second copy of a state label or a
// document name.
func (s *Server) consoleReference(c *gin.Context) {
	pageHeaders(c)
	c.Data(http.StatusOK, "text/javascript; charset=utf-8", consoleReferenceJS)
}

var consoleReferenceJS = func() []byte {
	ref, err := json.Marshal(map[string]any{
		"states":            domain.States,
		"stage_count":       domain.StageCount,
		"events":            domain.Events,
		"doc_types":         domain.DocTypes,
		"doc_statuses":      domain.DocStatuses,
		"doc_recordable":    domain.DocRecordable,
		"facility_types":    domain.FacilityTypes,
		"channels":          domain.Channels,
		"legal_capacities":  domain.LegalCapacities,
		"disability_groups": domain.DisabilityGroups,
		"notice_channels":   domain.NoticeChannels,
		"deadline_kinds":    domain.DeadlineKinds,
		"happenings":        domain.HappeningDefs(),
		"contact_topics":    domain.ContactTopicDefs(),
		"deadline_labels":   domain.DeadlineLabels(),
		"stats_words":       domain.StatsWords(),
		"doc_status_words":  docStatusWords(),
	})
	if err != nil {
		panic(err)
	}
	return append(append([]byte("window.CAREPATH_REF = "), ref...), ";\n"...)
}()

// docStatusWords is, per document type and status, the words that agree with the document's
// name («справка не представлена»), from domain.DocStatusWord.
func docStatusWords() map[domain.DocType]map[domain.DocStatus]string {
	out := map[domain.DocType]map[domain.DocStatus]string{}
	for _, d := range domain.DocTypes {
		out[d.Type] = map[domain.DocStatus]string{}
		for _, st := range domain.DocStatuses {
			out[d.Type][st] = domain.DocStatusWord(d.Type, st)
		}
	}
	return out
}
