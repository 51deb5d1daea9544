package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"carepath/domain"
)

// TestAppendStatusView: the hand encoder writes the bytes encoding/json writes, escapes included.
func TestAppendStatusView(t *testing.T) {
	due := domain.NewDate(2026, 3, 9)
	for _, v := range []*domain.StatusView{
		{},
		{CaseNumber: "KC-2025-000123", StateLabel: "Сбор документов", Stage: 2, StageCount: 6, StateEnteredOn: domain.NewDate(2025, 1, 31),
			NextStep: "Представить <документы> & \"справки\"", NextStepBy: &due, MissingDocuments: []string{"Паспорт", "a\u2028b\u2029c", "tab\there\x01", "bad \xff utf-8", `back\slash`, "cut \xe2\x80", "end\u2029", "€ ‧ \u2027"},
			WaitingPosition: 17, CenterPhone: "+7 (495) 000-00-00",
			MissingWhere: []domain.MissingDocument{{Document: "Паспорт", Where: "В «МФЦ» \u2028"}},
			Timeline:     []domain.TimelineStep{{Label: "Заявление зарегистрировано", On: due}, {Label: "Сбор <документов>", On: due}},
			VoucherHome:  "Пансионат \"Сосны\""},
		{CaseNumber: "KC-2025-000124", MissingDocuments: []string{}, CenterPhone: "😀"},
		{CaseNumber: "KC-2025-000125", WaitingPosition: 4, Waiting: domain.SegmentFigures{Position: 4, Total: 90, SegmentPosition: 5, Admissions: 16, Preferences: true}.Status()},
		{CaseNumber: "KC-2025-000126", WaitingPosition: 4, Waiting: domain.SegmentFigures{Position: 4, Total: 90, SegmentPosition: 2, Admissions: 1}.Status()},
	} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendStatusView(nil, v); !bytes.Equal(got, want) {
			t.Errorf("hand encoding differs:\n got %s\nwant %s", got, want)
		}
	}
}

// TestClientGoneIsNotAnInternalError: a lookup cut short because its client went away is
// recorded as 499 without an error in the log; the same error while the client still waits
// (a context canceled for another reason) is still a 500 and logged.
func TestClientGoneIsNotAnInternalError(t *testing.T) {
	var logged bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logged, nil)))
	defer slog.SetDefault(prev)
	err := fmt.Errorf("status lookup: read case KC-2025-000123 for the status lookup: %w", context.Canceled)
	for _, gone := range []bool{true, false} {
		logged.Reset()
		ctx, cancel := context.WithCancel(context.Background())
		if gone {
			cancel()
		}
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		c.Request = httptest.NewRequest("POST", "/api/v1/status", nil).WithContext(ctx)
		writeError(c, err)
		cancel()
		want, wantLog := 500, true
		if gone {
			want, wantLog = statusClientClosed, false
		}
		if w.Code != want || c.Writer.Status() != want {
			t.Errorf("client gone %v: status %d (writer %d), want %d", gone, w.Code, c.Writer.Status(), want)
		}
		if got := strings.Contains(logged.String(), "internal error"); got != wantLog {
			t.Errorf("client gone %v: internal error logged %v, want %v: %s", gone, got, wantLog, logged.String())
		}
	}
}
