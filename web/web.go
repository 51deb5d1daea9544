// Package web holds the pages for people (relatives, specialists) and the vendored assets they
// use, embedded into the binary. No page loads anything from another host.
package web

import "embed"

// Static holds static/: the Redoc bundle (vendored from npm by scripts/vendor-redoc.sh) and
// the pages' own CSS and scripts.
//
//go:embed static
var Static embed.FS
