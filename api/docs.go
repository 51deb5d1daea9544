package api

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

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

func (s *Server) docsPage(c *gin.Context) {
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(docsHTML))
}

var staticFS = func() http.FileSystem {
	sub, err := fs.Sub(web.Static, "static")
	if err != nil {
		panic(err)
	}
	return http.FS(sub)
}()

func (s *Server) static(c *gin.Context) {
	p := strings.TrimPrefix(c.Param("path"), "/")
	if strings.HasSuffix(p, ".map") || strings.HasSuffix(p, ".txt") && !strings.Contains(p, "LICENSE") {
		c.Status(http.StatusNotFound)
		return
	}
	c.Header("Cache-Control", "public, max-age=3600")
	c.FileFromFS(p, staticFS)
}
