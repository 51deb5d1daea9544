package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"carepath/domain"
)

// TaskScanDeadlines is the periodic reminder and deadline scan.
const TaskScanDeadlines = "scan:deadlines"

// Scanner is the reminder and deadline scan: each tick it takes the open deadlines whose next
// reminder stage has fallen due (by index: the cost grows with the due ones, not with all
// cases), writes their reminders through the same outbox as every other notice, and expires
// vouchers whose admission window has closed by firing cancel_voucher as the system.
type Scanner struct {
	Notices  domain.Outbox
	Service  *domain.Service
	Settings domain.Settings
	// Batch is how many deadlines one transaction takes; a tick runs at most MaxBatches.
	Batch      int
	MaxBatches int
	Logger     *slog.Logger
	Metrics    *Metrics
	Now        func() time.Time
}

// ScanStats says what one tick did.
type ScanStats struct {
	Due     int
	Notices int
	Expired int
	// StaleHomes are the homes whose agencies were reminded of a stale beds report, with
	// StaleNotices their reminders (not counted in Notices).
	StaleHomes   int
	StaleNotices int
	Duration     time.Duration
}

// ProcessTask implements asynq.Handler.
func (s *Scanner) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	st, err := s.Scan(ctx)
	if err != nil {
		return err
	}
	if st.Due > 0 || st.StaleHomes > 0 {
		s.Logger.Info("deadline scan", "due", st.Due, "notices", st.Notices, "expired_vouchers", st.Expired,
			"stale_homes", st.StaleHomes, "ms", st.Duration.Milliseconds())
	}
	return nil
}

// Scan runs one tick.
func (s *Scanner) Scan(ctx context.Context) (ScanStats, error) {
	start := time.Now()
	now := start
	if s.Now != nil {
		now = s.Now()
	}
	var st ScanStats
	supervisors, err := s.Notices.Supervisors(ctx)
	if err != nil {
		return st, err
	}
	plan := func(r domain.DueReminder) domain.ReminderOutcome {
		return domain.PlanReminder(s.Settings, r, supervisors, now)
	}
	for i := 0; i < s.maxBatches(); i++ {
		res, err := s.Notices.ScanDue(ctx, now, s.Batch, plan)
		if err != nil {
			return st, err
		}
		st.Due += res.Due
		st.Notices += res.Notices
		for _, id := range res.Expire {
			if err := s.expire(ctx, id); err != nil {
				s.Logger.Error("expire voucher", "case", id, "err", err)
				continue
			}
			st.Expired++
		}
		if res.Due < s.Batch {
			break
		}
	}
	// offers of beds nobody answered in time (issue 17)
	if s.Service != nil && s.Service.OfferLog != nil {
		n, err := s.Service.ExpireOffers(ctx, now)
		if err != nil {
			s.Logger.Error("expire offers", "err", err)
		}
		st.Expired += n
	}
	// homes whose beds report went stale: their agencies are reminded, once per episode
	if err := s.remindStaleHomes(ctx, now, &st); err != nil {
		s.Logger.Error("remind stale homes", "err", err)
	}
	st.Duration = time.Since(start)
	s.Metrics.scanned(st)
	return st, nil
}

func (s *Scanner) expire(ctx context.Context, caseID string) error {
	_, err := s.Service.Fire(ctx, domain.System, caseID, 0, domain.EventCommand{Event: domain.CancelVoucher,
		Comment: "Путёвка аннулирована автоматически: заселение не состоялось в срок"})
	if domain.ErrorCode(err) == domain.ECONFLICT {
		return nil // the case left voucher_issued meanwhile: nothing to expire
	}
	if err != nil {
		return fmt.Errorf("cancel voucher of case %s: %w", caseID, err)
	}
	return nil
}

// remindStaleHomes reminds the agencies of the homes whose beds report went stale
// (domain/stalehome.go), in batches like the deadlines.
func (s *Scanner) remindStaleHomes(ctx context.Context, now time.Time, st *ScanStats) error {
	days := s.Settings.BedReportDays()
	plan := func(h domain.StaleHome) []domain.Notice { return domain.PlanStaleHomeReminder(days, h, now) }
	batch := max(s.Batch, 1)
	for range s.maxBatches() {
		homes, notices, err := s.Notices.RemindStaleHomes(ctx, domain.StaleBefore(now, days), batch, plan)
		if err != nil {
			return err
		}
		st.StaleHomes += homes
		st.StaleNotices += notices
		if homes < batch {
			return nil
		}
	}
	return nil
}

// maxBatches is how many batches one tick takes at most, of each kind.
func (s *Scanner) maxBatches() int {
	if s.MaxBatches == 0 {
		return 100
	}
	return s.MaxBatches
}
