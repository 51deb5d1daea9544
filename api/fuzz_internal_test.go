package api

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"carepath"
	"carepath/domain"
)

// The edge's own parsers, fuzzed: the seeds run in every `go test`, `make fuzz-parsers`
// searches further (scripts/fuzz-parsers.sh).

func FuzzIfMatch(f *testing.F) {
	for _, s := range []string{`"3"`, `W/"3"`, "3", `"0"`, `"-1"`, `"abc"`, `""`, `W/""`, `"9223372036854775808"`, `*`, ` "7" `, `""3""`, "\x00", `W/W/"3"`} {
		f.Add(s)
	}
	gin.SetMode(gin.TestMode)
	f.Fuzz(func(t *testing.T, h string) {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("POST", "/", nil)
		c.Request.Header["If-Match"] = []string{h}
		v, err := ifMatch(c, true)
		if err != nil {
			return
		}
		if v < 1 {
			t.Fatalf("If-Match %q gave version %d", h, v)
		}
		// the ETag the server writes for that version reads back as it
		c.Request.Header["If-Match"] = []string{`"` + strconv.Itoa(v) + `"`}
		if again, err := ifMatch(c, true); err != nil || again != v {
			t.Fatalf("If-Match %q = %d, but its ETag reads back as %d, %v", h, v, again, err)
		}
	})
}

var contractStatusNumber = regexp.MustCompile(`^[Kk][Cc]-[0-9]{4}-[0-9]{6}$`)

func FuzzValidCaseNumberAtTheEdge(f *testing.F) {
	for _, s := range []string{"KC-2025-000123", "kc-2025-000123", "kC-2025-000123", "KC-2025-00012", "KC-2025-0001234", "KC 2025 000123", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := domain.ValidCaseNumber(strings.ToUpper(s)), contractStatusNumber.MatchString(s); got != want {
			t.Fatalf("validCaseNumber(%q) = %v, the contract's pattern says %v", s, got, want)
		}
	})
}

// FuzzStatusFastPath: whatever the lookup's fast path accepts, encoding/json reads as the same
// two values and the contract's StatusRequest schema accepts (the fast path takes a subset).
func FuzzStatusFastPath(f *testing.F) {
	for _, s := range []string{`{"case_number":"KC-2025-000123","access_code":"CAREPATH2345"}`,
		` { "access_code" : "x" , "case_number" : "kc-2025-000001" } `, `{"case_number":"KC-2025-000123","access_code":""}`,
		`{"case_number":"KC-2025-000123","access_code":"a\"b"}`, `{"case_number":"KC-2025-000123","case_number":"KC-2025-000124"}`,
		`{"case_number":"KC-2025-000123","access_code":"x"}{}`, `{"case_number":"KC-2025-000123","access_code":"x",}`,
		`{"case_number":"KC-2025-000123","access_code":"\u0041"}`, "{\"case_number\":\"KC-2025-000123\",\"access_code\":\"\xff\"}", `[]`, ``} {
		f.Add([]byte(s))
	}
	doc, err := openapi3.NewLoader().LoadFromData(carepath.OpenAPI)
	if err != nil {
		f.Fatal(err)
	}
	schema := doc.Components.Schemas["StatusRequest"].Value
	f.Fuzz(func(t *testing.T, body []byte) {
		number, code, ok := parseStatusBody(body)
		if !ok {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		var req statusRequest
		if err := dec.Decode(&req); err != nil || dec.More() {
			t.Fatalf("the fast path took %q, encoding/json refuses it: %v", body, err)
		}
		if req.CaseNumber != number || req.AccessCode != code {
			t.Fatalf("the fast path read %q as (%q, %q), encoding/json as %+v", body, number, code, req)
		}
		var v any
		_ = json.Unmarshal(body, &v)
		if err := schema.VisitJSON(v); err != nil {
			t.Fatalf("the fast path took %q, the contract refuses it: %v", body, err)
		}
	})
}
