// Package carepath holds what the whole program shares from the repository root: the OpenAPI
// contract, embedded so the server serves and validates against the very file in the repo.
package carepath

import _ "embed"

// OpenAPI is openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
