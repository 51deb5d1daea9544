package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"carepath/domain"
)

// staleHomesSQL takes the stale homes whose episode (the report they stand on, '-infinity' for
// none) has not been reminded yet (migration 00075). A home a concurrent scan or a beds report
// holds is skipped: the next tick takes it if it is still due. FOR NO KEY UPDATE, so that the
// cases that reference the home are not held up.
const staleHomesSQL = `SELECT id::text AS id, name, agency_id::text AS agency_id, reported_at FROM facilities
	WHERE active AND agency_id IS NOT NULL AND (reported_at IS NULL OR reported_at < ?)
		AND stale_reminded_for IS DISTINCT FROM coalesce(reported_at, '-infinity')
	ORDER BY reported_at NULLS FIRST, id LIMIT ? FOR NO KEY UPDATE SKIP LOCKED`

// RemindStaleHomes implements domain.Outbox: the homes locked, their reminders written and
// their episodes recorded in one transaction, so each episode is reminded once however many
// scanners run.
func (n *Notices) RemindStaleHomes(ctx context.Context, before time.Time, limit int, plan func(h domain.StaleHome) []domain.Notice) (homes, notices int, err error) {
	err = n.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []domain.StaleHome
		if err := tx.Raw(staleHomesSQL, before, limit).Scan(&rows).Error; err != nil {
			return fmt.Errorf("stale homes: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]string, len(rows))
		var ns []domain.Notice
		for i, h := range rows {
			ids[i] = h.ID
			ns = append(ns, plan(h)...)
		}
		written, err := insertNotices(tx, ns)
		if err != nil {
			return fmt.Errorf("stale home reminders: %w", err)
		}
		if err := tx.Exec(`UPDATE facilities SET stale_reminded_for = coalesce(reported_at, '-infinity') WHERE id IN ?`, ids).Error; err != nil {
			return fmt.Errorf("record stale homes reminded: %w", err)
		}
		homes, notices = len(rows), written
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	if notices > 0 {
		n.db.bell.Ring()
	}
	return homes, notices, nil
}
