package api_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

func BenchmarkStatusHandler(b *testing.B) {
	t := &testing.T{}
	_ = t
	e := newAccessEnv(b, false)
	c := e.load(e.caseID)
	body := []byte(`{"case_number":"` + c.Number + `","access_code":"` + e.caseCode + `"}`)
	h := e.engine
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", "/api/v1/status", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatal(w.Code, w.Body.String())
			}
		}
	})
}
