package carepath_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDataFlowsOneWay: api → domain ← store, jobs. The domain imports no gin, gorm or asynq;
// api and jobs reach storage only through the ports declared in domain. Checked on every
// package each one depends on, directly or not (go list -deps).
func TestDataFlowsOneWay(t *testing.T) {
	rules := []struct {
		pkg       string
		forbidden []string
	}{
		{"carepath/domain", []string{"github.com/gin-gonic/gin", "gorm.io/", "github.com/hibiken/asynq", "carepath/store", "carepath/api", "carepath/jobs"}},
		{"carepath/api", []string{"carepath/store", "carepath/jobs", "gorm.io/"}},
		{"carepath/jobs", []string{"carepath/store", "carepath/api", "gorm.io/"}},
	}
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-deps", r.pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", r.pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 2 {
			t.Fatalf("go list -deps %s listed %v", r.pkg, deps)
		}
		for _, d := range deps {
			for _, f := range r.forbidden {
				if d == strings.TrimSuffix(f, "/") || strings.HasPrefix(d, f) {
					t.Errorf("%s depends on %s", r.pkg, d)
				}
			}
		}
	}
}
