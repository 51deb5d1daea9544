package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// What the fault tests (standby, chaos) share: a specialist to drive the API as, its
// requests, and the check that every command answered 2xx was kept.

// specialistToken creates a specialist with `carepath users create` and returns its token.
func specialistToken(t *testing.T, vars map[string]string) string {
	t.Helper()
	return userToken(t, vars, "Дежурный специалист", "specialist")
}

// userToken creates a user with the role and returns its token.
func userToken(t *testing.T, vars map[string]string, name, role string) string {
	t.Helper()
	var out, errs syncBuffer
	if err := run(context.Background(), []string{"users", "create", "--name", name, "--role", role}, env(vars), &out, &errs); err != nil {
		t.Fatalf("users create: %v\n%s", err, errs.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return lines[len(lines)-1]
}

// apiRequest is a JSON request to carepath at url (http://host:port), as the specialist holding
// token; the relatives' lookup goes without it.
func apiRequest(url, token, method, path, ifMatch string, body any) *http.Request {
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, url+path, bytes.NewReader(b))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if path != "/api/v1/status" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	return req
}

// newCaseBody is a case to register; guardianship, when given, is told of it by webhook.
func newCaseBody(legalCapacity, guardianship string) map[string]any {
	c := map[string]any{"channel": "hotline", "facility_type": "elderly_disabled", "applicant": map[string]any{
		"full_name": "Иванова Мария Петровна", "birth_date": "1941-03-15", "gender": "female", "snils": "112-233-445 95",
		"address": "Москва", "legal_capacity": legalCapacity}}
	if guardianship != "" {
		c["guardianship_id"] = guardianship
	}
	return c
}

// lostCommands compares the versions answered 2xx (case id -> highest version) with the
// database: each case must be there at that version or later, with one history line per version.
func lostCommands(conn *pgx.Conn, acked map[string]int) []string {
	var lost []string
	for id, v := range acked {
		var version, lines, top int
		if err := conn.QueryRow(context.Background(), `SELECT c.version, count(h.*), coalesce(max(h.version), 0) FROM cases c
			LEFT JOIN case_history h ON h.case_id = c.id WHERE c.id = $1 GROUP BY c.version`, id).Scan(&version, &lines, &top); err != nil {
			lost = append(lost, fmt.Sprintf("case %s answered 2xx at version %d is missing: %v", id, v, err))
			continue
		}
		if version < v || lines != version || top != version {
			lost = append(lost, fmt.Sprintf("case %s: answered 2xx at version %d; stored version %d with %d history lines up to %d", id, v, version, lines, top))
		}
	}
	return lost
}
