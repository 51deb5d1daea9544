package store

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"carepath/domain"
)

// contactSecret is what of a relative or representative is sealed with the applicant's personal
// data: how to reach them. The contacts column keeps the rest (name, relation, consent).
type contactSecret struct {
	Phone string `json:"p,omitempty"`
	Email string `json:"e,omitempty"`
}

// sealContacts splits the contacts into the part stored in clear and the part sealed.
func sealContacts(cs []domain.Contact) (clear []domain.Contact, secrets []contactSecret) {
	clear = make([]domain.Contact, len(cs))
	secrets = make([]contactSecret, len(cs))
	for i, c := range cs {
		secrets[i] = contactSecret{Phone: c.Phone, Email: c.Email}
		c.Phone, c.Email = "", ""
		clear[i] = c
	}
	return clear, secrets
}

// openContacts puts the sealed part back. A case written before phones were sealed has no
// secrets and keeps its contacts as they are.
func openContacts(cs []domain.Contact, secrets []contactSecret) {
	if len(secrets) != len(cs) {
		return
	}
	for i := range cs {
		cs[i].Phone, cs[i].Email = secrets[i].Phone, secrets[i].Email
	}
}

// casePhones are the phones a case is found by: the applicant's, the relatives' and the
// representatives', normalised, each once.
func casePhones(c *domain.Case) []string {
	var out []string
	add := func(p string) {
		if e164, ok := domain.ParsePhone(p); ok {
			for _, have := range out {
				if have == e164 {
					return
				}
			}
			out = append(out, e164)
		}
	}
	add(c.Applicant.Phone)
	for _, ct := range c.Contacts {
		add(ct.Phone)
	}
	return out
}

// indexPhones writes the blind index entries of a new case's phones in its transaction.
func (s *Cases) indexPhones(tx *gorm.DB, c *domain.Case) error {
	if s.Phones == nil {
		return nil
	}
	for _, p := range casePhones(c) {
		_, err := sqlTx(tx).ExecContext(tx.Statement.Context, "INSERT INTO case_phone_keys (key, case_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
			s.Phones.Key(p), c.ID)
		if err != nil {
			return fmt.Errorf("index phones of case %s: %w", c.ID, err)
		}
	}
	return nil
}

// PhoneBook finds cases by phone through the blind index (implements domain.PhoneBook).
type PhoneBook struct {
	db     *DB
	phones *PhoneIndex
}

// NewPhoneBook returns the phone book.
func NewPhoneBook(db *DB, phones *PhoneIndex) *PhoneBook { return &PhoneBook{db: db, phones: phones} }

// CasesByPhone implements domain.PhoneBook: every key of the index is tried (a rotation under
// way), newest case first.
func (b *PhoneBook) CasesByPhone(ctx context.Context, e164 string, limit int) ([]string, error) {
	var ids []string
	err := b.db.Gorm.WithContext(ctx).Raw(`SELECT c.id::text FROM cases c
		WHERE c.id IN (SELECT case_id FROM case_phone_keys WHERE key IN ?) ORDER BY c.seq DESC LIMIT ?`,
		b.phones.Keys(e164), limit).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("cases by phone: %w", err)
	}
	return ids, nil
}

// OpensPersonal gives the notices store the sealer it needs to reach the relatives of a case
// whose phones and e-mails are sealed (the reminder scan); it returns n.
func (n *Notices) OpensPersonal(s *Sealer) *Notices {
	n.sealer = s
	return n
}

// openContacts puts a case's sealed contact details back for the reminder scan.
func (n *Notices) openContacts(sealed []byte, c *domain.Case) error {
	if n.sealer == nil {
		return fmt.Errorf("case %s: the notices store has no sealer to reach its relatives (OpensPersonal)", c.ID)
	}
	plain, err := n.sealer.Open(sealed)
	if err != nil {
		return fmt.Errorf("case %s personal data: %w", c.ID, err)
	}
	var per applicantPersonal
	if err := json.Unmarshal(plain, &per); err != nil {
		return fmt.Errorf("case %s personal data: %w", c.ID, err)
	}
	openContacts(c.Contacts, per.Contacts)
	return nil
}

// ResealPhones moves the phones and e-mails of cases registered before they were sealed into the
// sealed personal data, and indexes the cases' phones for search: each case with a
// compare-and-swap on its version, so a case changed meanwhile is left to the next pass. It
// returns how many cases it resealed and how many changed under it. Run it once after upgrading
// to migration 00017, and again until it reports 0.
func (s *Cases) ResealPhones(ctx context.Context, batch int) (resealed, skipped int, err error) {
	if s.Phones == nil {
		return 0, 0, fmt.Errorf("reseal phones: no PHONE_INDEX_KEY")
	}
	after := "00000000-0000-0000-0000-000000000000"
	for {
		// database/sql, not gorm: the JSON path's "?" is not a placeholder
		var ids []string
		rows, err := s.db.SQL.QueryContext(ctx, `SELECT id::text FROM cases WHERE id > $1
			AND jsonb_path_exists(contacts, '$[*] ? (exists(@.phone) || exists(@.email))') ORDER BY id LIMIT $2`, after, batch)
		if err != nil {
			return resealed, skipped, fmt.Errorf("find cases to reseal: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return resealed, skipped, fmt.Errorf("find cases to reseal: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return resealed, skipped, fmt.Errorf("find cases to reseal: %w", err)
		}
		if len(ids) == 0 {
			return resealed, skipped, nil
		}
		for _, id := range ids {
			after = id
			c, err := s.Get(ctx, id)
			if err != nil {
				return resealed, skipped, err
			}
			var r caseRow
			s.wideToRow(c, &r)
			var done bool
			err = s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				res := tx.Exec("UPDATE cases SET personal = ?, contacts = ?::jsonb WHERE id = ? AND version = ?", r.Personal, r.Contacts, id, c.Version)
				if res.Error != nil || res.RowsAffected == 0 {
					return res.Error
				}
				done = true
				return s.indexPhones(tx, c)
			})
			if err != nil {
				return resealed, skipped, fmt.Errorf("reseal case %s: %w", id, err)
			}
			if done {
				resealed++
			} else {
				skipped++
			}
		}
	}
}
