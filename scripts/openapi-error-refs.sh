#!/usr/bin/env bash
# Points every error response of openapi.yaml written as `$ref: "#/components/responses/Problem"`
# at the response that says what its status means (400 BadRequest, 404 NotFound, ...). Run it
# after adding an operation the old way; scripts/lint-openapi.sh refuses the unused name.
set -euo pipefail
cd "$(dirname "$0")/.."
perl -0pi -e '
  my %n = (400=>"BadRequest", 401=>"Unauthorized", 403=>"Forbidden", 404=>"NotFound", 409=>"Conflict",
           412=>"PreconditionFailed", 413=>"PayloadTooLarge", 422=>"Unprocessable", 428=>"PreconditionRequired",
           429=>"TooManyRequests", 503=>"Unavailable");
  s{(\n(\s*)"(\d{3})":\n\2  \$ref: "#/components/responses/)Problem"}{$1 . ($n{$3} // "Problem") . "\""}ge;
' openapi.yaml
