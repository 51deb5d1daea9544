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
