package api

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"carepath/domain"
	"carepath/web"
)

// docsHTML renders openapi.yaml with the vendored Redoc bundle; nothing comes from a CDN.
const docsHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>carepath API</title>
<style>body{margin:0}</style>
</head>
<body>
<redoc spec-url="/openapi.yaml" hide-download-button="false"></redoc>
<script src="/static/redoc.standalone.js"></script>
</body>
</html>`

// docsCSP lets the docs page run only the vendored Redoc bundle and fetch only openapi.yaml from
// this host. Redoc injects its styles (styled-components) and runs its search in a blob: worker.
const docsCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

func (s *Server) docsPage(c *gin.Context) {
	c.Header("Content-Security-Policy", docsCSP)
	c.Header("X-Frame-Options", "DENY")
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(docsHTML))
}

var staticRoot = func() fs.FS {
	sub, err := fs.Sub(web.Static, "static")
	if err != nil {
		panic(err)
	}
	return sub
}()

var staticFS = http.FS(staticRoot)

// static serves the files of web/static, never a directory listing; anything else is a
// problem+json 404 like every other.
func (s *Server) static(c *gin.Context) {
	p := strings.TrimPrefix(c.Param("path"), "/")
	hidden := strings.HasSuffix(p, ".map") || strings.HasSuffix(p, ".txt") && !strings.Contains(p, "LICENSE")
	if st, err := fs.Stat(staticRoot, p); hidden || err != nil || !st.Mode().IsRegular() {
		writeError(c, domain.Errorf(domain.ENOTFOUND, "no such file"))
		return
	}
	c.Header("Cache-Control", "public, max-age=3600")
	c.FileFromFS(p, staticFS)
}
