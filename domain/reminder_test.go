package domain

import (
	"testing"
	"time"
)

func TestPlanReminder(t *testing.T) {
	opened := time.Date(2025, 3, 3, 10, 0, 0, 0, Moscow)
	collection := Deadline{ID: 11, Kind: DeadlineDocumentCollection, OpenedAt: opened, DueOn: MustDate("2025-04-02"),
		DueAt: MustDate("2025-04-02").EndInMoscow(), State: DeadlineOpen}
	review := Deadline{ID: 12, Kind: DeadlineReviewDecision, OpenedAt: opened, DueOn: MustDate("2025-03-07"),
		DueAt: MustDate("2025-03-07").EndInMoscow(), State: DeadlineOpen}
	voucher := Deadline{ID: 13, Kind: DeadlineVoucherAdmission, OpenedAt: opened, DueOn: MustDate("2025-04-02"),
		DueAt: MustDate("2025-04-02").EndInMoscow(), State: DeadlineOpen}
	c := planCase()
	c.Checklist = BuildChecklist(c)
	complete := planCase()
	complete.Checklist = BuildChecklist(complete)
	for i := range complete.Checklist {
		complete.Checklist[i].Status = DocReceived
	}
	day := func(d int) time.Time { return opened.AddDate(0, 0, d) }
	tests := []struct {
		name       string
		r          DueReminder
		now        time.Time
		wantSent   int
		wantNext   *time.Time
		wantH      Happening
		wantExpire bool
	}{
		{"day 6: nothing yet", DueReminder{collection, 0, c, nil, nil}, day(6), 0, ptr(day(7)), "", false},
		{"day 7: first reminder", DueReminder{collection, 0, c, nil, nil}, day(7), 1, ptr(day(14)), HappeningDocumentsMissing, false},
		{"day 15 after none: only the latest stage", DueReminder{collection, 0, c, nil, nil}, day(15), 2, ptr(day(21)), HappeningDocumentsMissing, false},
		{"day 21 with nothing missing: stage spent, no notice", DueReminder{collection, 2, complete, nil, nil}, day(21), 3, ptr(collection.DueAt), "", false},
		{"past due: missed", DueReminder{collection, 3, c, nil, nil}, day(31), 4, nil, HappeningDeadlineMissed, false},
		{"review at 80%", DueReminder{review, 0, c, nil, nil}, opened.Add(review.DueAt.Sub(opened) * 8 / 10), 1, ptr(review.DueAt), HappeningDeadlineAtRisk, false},
		{"review missed", DueReminder{review, 1, c, nil, nil}, review.DueAt, 2, nil, HappeningDeadlineMissed, false},
		{"voucher closing in 5 days", DueReminder{voucher, 0, c, []Facility{newHome}, nil}, voucher.DueAt.AddDate(0, 0, -5), 1, ptr(voucher.DueAt), HappeningVoucherExpiring, false},
		{"voucher expired", DueReminder{voucher, 1, c, []Facility{newHome}, nil}, voucher.DueAt, 1, nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := PlanReminder(DefaultSettings(), tt.r, []string{testSupervisor1}, tt.now)
			if out.Sent != tt.wantSent || out.ExpireVoucher != tt.wantExpire {
				t.Errorf("sent %d expire %v, want %d %v", out.Sent, out.ExpireVoucher, tt.wantSent, tt.wantExpire)
			}
			if !tt.wantExpire && !samePtr(out.RemindAt, tt.wantNext) {
				t.Errorf("next reminder %v, want %v", out.RemindAt, tt.wantNext)
			}
			for _, n := range out.Notices {
				if n.Happening != tt.wantH {
					t.Errorf("notice %s, want %s", n.Happening, tt.wantH)
				}
			}
			if (tt.wantH != "") != (len(out.Notices) > 0) {
				t.Errorf("%d notices, want some: %v", len(out.Notices), tt.wantH != "")
			}
		})
	}
}

func TestReminderKeysDifferPerStage(t *testing.T) {
	opened := time.Date(2025, 3, 3, 10, 0, 0, 0, Moscow)
	d := Deadline{ID: 11, Kind: DeadlineDocumentCollection, OpenedAt: opened, DueOn: MustDate("2025-04-02"),
		DueAt: MustDate("2025-04-02").EndInMoscow(), State: DeadlineOpen}
	c := planCase()
	c.Checklist = BuildChecklist(c)
	first := PlanReminder(DefaultSettings(), DueReminder{d, 0, c, nil, nil}, nil, opened.AddDate(0, 0, 7))
	again := PlanReminder(DefaultSettings(), DueReminder{d, 0, c, nil, nil}, nil, opened.AddDate(0, 0, 7).Add(time.Hour))
	second := PlanReminder(DefaultSettings(), DueReminder{d, 1, c, nil, nil}, nil, opened.AddDate(0, 0, 14))
	if len(first.Notices) == 0 || first.Notices[0].IdempotencyKey != again.Notices[0].IdempotencyKey {
		t.Errorf("the same stage planned twice must give the same keys")
	}
	if first.Notices[0].IdempotencyKey == second.Notices[0].IdempotencyKey {
		t.Errorf("the next stage must give new keys")
	}
}

func TestEveryDeadlineKindHasReminders(t *testing.T) {
	for _, k := range DeadlineKinds {
		if len(reminderStages[k]) == 0 {
			t.Errorf("deadline kind %s has no reminder stages", k)
		}
		if DeadlineLabel(k) == string(k) {
			t.Errorf("deadline kind %s has no Russian label", k)
		}
	}
}

func ptr(t time.Time) *time.Time { return &t }

func samePtr(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
