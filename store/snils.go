package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// snilsEntry is the blind index's input for a SNILS: kept apart from phones by its prefix.
func snilsEntry(snils string) string { return "snils:" + snils }

// indexSNILS writes the blind index entry of a new case's SNILS in its transaction.
func (s *Cases) indexSNILS(tx *gorm.DB, caseID, snils string) error {
	if s.Phones == nil || snils == "" {
		return nil
	}
	_, err := sqlTx(tx).ExecContext(tx.Statement.Context, "INSERT INTO case_snils_keys (key, case_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
		s.Phones.Key(snilsEntry(snils)), caseID)
	if err != nil {
		return fmt.Errorf("index SNILS of case %s: %w", caseID, err)
	}
	return nil
}

// OpenCasesWithSNILS implements domain.SNILSBook: the numbers of the open cases (not ended)
// other than except that carry this SNILS, oldest first, at most five.
func (s *Cases) OpenCasesWithSNILS(ctx context.Context, snils, except string) ([]string, error) {
	if s.Phones == nil {
		return nil, nil
	}
	var numbers []string
	err := s.db.Gorm.WithContext(ctx).Raw(`SELECT c.number FROM cases c
		WHERE c.id IN (SELECT case_id FROM case_snils_keys WHERE key IN ?) AND c.id::text <> ?
			AND c.state NOT IN ('discharged', 'deceased', 'withdrawn') ORDER BY c.seq LIMIT 5`,
		s.Phones.Keys(snilsEntry(snils)), except).Scan(&numbers).Error
	if err != nil {
		return nil, fmt.Errorf("cases by SNILS: %w", err)
	}
	return numbers, nil
}
