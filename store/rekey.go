package store

import (
	"bytes"
	"context"
	"fmt"
)

// RekeyResult is what a re-keying pass did.
type RekeyResult struct {
	Resealed int
	// Skipped rows changed under the pass (and were sealed with the current key by that change).
	Skipped int
}

// Rekey re-seals the personal data of every case not sealed with the current key, in batches,
// each row with a compare-and-swap so a case changed meanwhile is not overwritten. Run it after
// putting a new key first in DATA_KEY; once it reports nothing left, the old key can be removed.
func Rekey(ctx context.Context, db *DB, sealer *Sealer, batch int) (RekeyResult, error) {
	var res RekeyResult
	if batch <= 0 {
		batch = 1000
	}
	current := sealer.KeyID()
	after := "00000000-0000-0000-0000-000000000000"
	for {
		rows, err := db.SQL.QueryContext(ctx, `SELECT id::text, personal FROM cases
			WHERE id > $1 AND substring(personal FROM 1 FOR 4) <> $2 ORDER BY id LIMIT $3`, after, current, batch)
		if err != nil {
			return res, fmt.Errorf("find rows to re-key: %w", err)
		}
		type item struct {
			id  string
			old []byte
		}
		var items []item
		for rows.Next() {
			var it item
			if err := rows.Scan(&it.id, &it.old); err != nil {
				rows.Close()
				return res, err
			}
			items = append(items, it)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return res, err
		}
		if len(items) == 0 {
			return res, nil
		}
		for _, it := range items {
			after = it.id
			if bytes.Equal(it.old[:min(4, len(it.old))], current) {
				continue
			}
			plain, err := sealer.Open(it.old)
			if err != nil {
				return res, fmt.Errorf("case %s: %w", it.id, err)
			}
			r, err := db.SQL.ExecContext(ctx, "UPDATE cases SET personal = $1 WHERE id = $2 AND personal = $3", sealer.Seal(plain), it.id, it.old)
			if err != nil {
				return res, fmt.Errorf("re-seal case %s: %w", it.id, err)
			}
			if n, _ := r.RowsAffected(); n == 1 {
				res.Resealed++
			} else {
				res.Skipped++
			}
		}
	}
}
