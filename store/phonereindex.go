package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"carepath/domain"
)

// ReindexResult is what a pass of ReindexPhones did.
type ReindexResult struct {
	// Cases read, and the blind index entries of cases written (new key) and removed (old keys).
	Cases, CaseKeysAdded, CaseKeysRemoved int
	// Contacts with a phone read, and those whose entry was recomputed.
	Contacts, ContactKeysChanged int
}

// Changed reports whether the pass changed anything (a second pass after a complete one does not).
func (r ReindexResult) Changed() bool {
	return r.CaseKeysAdded+r.CaseKeysRemoved+r.ContactKeysChanged > 0
}

// ReindexPhones recomputes the phone blind index under the current key (the first of
// PHONE_INDEX_KEY): every case's phones (the applicant's, the relatives' and the
// representatives', opened from the sealed personal data) get their entry under the current
// key and lose the entries under any other, and every logged contact's phone_key is recomputed.
// It works in batches of batch rows by id, each in one transaction; a batch of cases is read FOR
// SHARE, so a command on one of them waits for the batch instead of racing it. It may be run
// while the service runs and as often as wanted: a pass after a complete one changes nothing.
// Rotation (docs/OPERATIONS.md): put the new key first, the old one second, restart, run this,
// then drop the old key.
func (s *Cases) ReindexPhones(ctx context.Context, batch int) (ReindexResult, error) {
	var res ReindexResult
	if s.Phones == nil {
		return res, fmt.Errorf("reindex phones: no PHONE_INDEX_KEY")
	}
	if batch <= 0 {
		batch = 500
	}
	after := "00000000-0000-0000-0000-000000000000"
	for {
		n, last, err := s.reindexCases(ctx, after, batch, &res)
		if err != nil {
			return res, err
		}
		if n == 0 {
			break
		}
		after = last
	}
	after = "00000000-0000-0000-0000-000000000000"
	for {
		n, last, err := s.reindexContacts(ctx, after, batch, &res)
		if err != nil {
			return res, err
		}
		if n == 0 {
			return res, nil
		}
		after = last
	}
}

func (s *Cases) reindexCases(ctx context.Context, after string, batch int, res *ReindexResult) (int, string, error) {
	tx, err := s.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return 0, "", fmt.Errorf("reindex phones: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	rows, err := tx.QueryContext(ctx, `SELECT id::text, personal, contacts::text FROM cases WHERE id > $1 ORDER BY id LIMIT $2 FOR SHARE`, after, batch)
	if err != nil {
		return 0, "", fmt.Errorf("reindex phones: read cases: %w", err)
	}
	var ids []string
	var keys [][]byte
	var keyCases []string
	n, last := 0, ""
	for rows.Next() {
		var id, contacts string
		var sealed []byte
		if err := rows.Scan(&id, &sealed, &contacts); err != nil {
			rows.Close()
			return 0, "", fmt.Errorf("reindex phones: read cases: %w", err)
		}
		n, last = n+1, id
		c := &domain.Case{ID: id}
		if err := json.Unmarshal([]byte(contacts), &c.Contacts); err != nil {
			rows.Close()
			return 0, "", fmt.Errorf("reindex phones: contacts of case %s: %w", id, err)
		}
		if len(sealed) > 0 {
			plain, err := s.sealer.Open(sealed)
			if err != nil {
				rows.Close()
				return 0, "", fmt.Errorf("reindex phones: personal data of case %s: %w", id, err)
			}
			var per applicantPersonal
			if err := json.Unmarshal(plain, &per); err != nil {
				rows.Close()
				return 0, "", fmt.Errorf("reindex phones: personal data of case %s: %w", id, err)
			}
			c.Applicant.Phone = per.Phone
			openContacts(c.Contacts, per.Contacts)
		}
		ids = append(ids, id)
		for _, p := range casePhones(c) {
			keys, keyCases = append(keys, s.Phones.Key(p)), append(keyCases, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, "", fmt.Errorf("reindex phones: read cases: %w", err)
	}
	if n == 0 {
		return 0, "", nil
	}
	res.Cases += n
	// the entries the batch's cases should not have (another key's), then the missing ones
	r, err := tx.ExecContext(ctx, `DELETE FROM case_phone_keys k WHERE k.case_id = ANY($1::uuid[])
		AND (k.key, k.case_id) NOT IN (SELECT * FROM unnest($2::bytea[], $3::uuid[]))`, ids, keys, keyCases)
	if err != nil {
		return 0, "", fmt.Errorf("reindex phones: remove old entries: %w", err)
	}
	removed, _ := r.RowsAffected()
	r, err = tx.ExecContext(ctx, `INSERT INTO case_phone_keys (key, case_id)
		SELECT * FROM unnest($1::bytea[], $2::uuid[]) ON CONFLICT DO NOTHING`, keys, keyCases)
	if err != nil {
		return 0, "", fmt.Errorf("reindex phones: add entries: %w", err)
	}
	added, _ := r.RowsAffected()
	if err := tx.Commit(); err != nil {
		return 0, "", fmt.Errorf("reindex phones: %w", err)
	}
	res.CaseKeysAdded += int(added)
	res.CaseKeysRemoved += int(removed)
	return n, last, nil
}

// reindexContacts recomputes the phone_key of a batch of contacts; a contact's phone never
// changes once logged, so no lock is needed.
func (s *Cases) reindexContacts(ctx context.Context, after string, batch int, res *ReindexResult) (int, string, error) {
	rows, err := s.db.SQL.QueryContext(ctx, `SELECT id::text, caller_phone, phone_key FROM contacts
		WHERE id > $1 AND caller_phone IS NOT NULL ORDER BY id LIMIT $2`, after, batch)
	if err != nil {
		return 0, "", fmt.Errorf("reindex phones: read contacts: %w", err)
	}
	var ids []string
	var keys [][]byte
	n, last := 0, ""
	for rows.Next() {
		var id string
		var sealed, key []byte
		if err := rows.Scan(&id, &sealed, &key); err != nil {
			rows.Close()
			return 0, "", fmt.Errorf("reindex phones: read contacts: %w", err)
		}
		n, last = n+1, id
		phone, err := s.sealer.Open(sealed)
		if err != nil {
			rows.Close()
			return 0, "", fmt.Errorf("reindex phones: phone of contact %s: %w", id, err)
		}
		if k := s.Phones.Key(string(phone)); !bytes.Equal(k, key) {
			ids, keys = append(ids, id), append(keys, k)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, "", fmt.Errorf("reindex phones: read contacts: %w", err)
	}
	res.Contacts += n
	if len(ids) > 0 {
		r, err := s.db.SQL.ExecContext(ctx, `UPDATE contacts c SET phone_key = v.key
			FROM unnest($1::uuid[], $2::bytea[]) AS v(id, key) WHERE c.id = v.id`, ids, keys)
		if err != nil {
			return 0, "", fmt.Errorf("reindex phones: write contacts: %w", err)
		}
		changed, _ := r.RowsAffected()
		res.ContactKeysChanged += int(changed)
	}
	return n, last, nil
}
