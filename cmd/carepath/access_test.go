package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"carepath/store/dbtest"
)

// TestAccessCommands runs the access subcommands as an operator would.
func TestAccessCommands(t *testing.T) {
	oldKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	newKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	env := map[string]string{"DATABASE_URL": dbtest.URL(t), "REDIS_URL": dbtest.RedisURL(t), "DATA_KEY": oldKey}
	run1 := func(args ...string) string {
		t.Helper()
		var out, errs bytes.Buffer
		if err := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errs); err != nil {
			t.Fatalf("carepath %s: %v\n%s", strings.Join(args, " "), err, errs.String())
		}
		return out.String()
	}
	out := run1("users", "create", "--name", "Оператор Тест", "--role", "supervisor")
	if !strings.Contains(out, "cpt_") {
		t.Fatalf("users create prints no token:\n%s", out)
	}
	if out := run1("users", "list"); !strings.Contains(out, "Оператор Тест") {
		t.Errorf("users list:\n%s", out)
	}
	out = run1("seed")
	if !strings.Contains(out, "cpt_demo_specialist") || !strings.Contains(out, "cpk_demo_health") {
		t.Errorf("seed prints no demo credentials:\n%s", out)
	}
	if out := run1("audit", "verify"); !strings.Contains(out, "every chain holds") {
		t.Errorf("audit verify:\n%s", out)
	}
	env["DATA_KEY"] = newKey + "," + oldKey
	if out := run1("rekey"); !strings.Contains(out, "re-sealed") || strings.Contains(out, "re-sealed 0 ") {
		t.Errorf("rekey:\n%s", out)
	}
	env["DATA_KEY"] = newKey
	if out := run1("audit", "verify"); !strings.Contains(out, "every chain holds") {
		t.Errorf("audit verify after rekey:\n%s", out)
	}
}
