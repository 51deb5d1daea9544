// Package web holds the pages for people (relatives, specialists) and the vendored assets they
// use, embedded into the binary. No page loads anything from another host.
package web

import "embed"

// Static holds static/: the Redoc bundle (vendored from npm by scripts/vendor-redoc.sh) and
// the pages' own CSS and scripts.
//
//go:embed static
var Static embed.FS

// Pages holds pages/: the HTML shells of the landing page, the specialists' console and the
// relatives' status page. They carry no data; their scripts fetch it from /api/v1.
//
//go:embed pages
var Pages embed.FS
