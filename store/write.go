package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"gorm.io/gorm"

	"carepath/domain"
)

// Create implements domain.CaseStore: the case row, then its first change, in one transaction.
func (s *Cases) Create(ctx context.Context, c *domain.Case, ch *domain.Change) error {
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		year := c.CreatedAt.In(domain.Moscow).Year()
		var last int
		err := tx.Raw(`INSERT INTO case_numbers (year, last) VALUES (?, 1)
			ON CONFLICT (year) DO UPDATE SET last = case_numbers.last + 1 RETURNING last`, year).Scan(&last).Error
		if err != nil {
			return fmt.Errorf("next case number: %w", err)
		}
		c.Number = domain.CaseNumber(year, last)
		row := s.toRow(c)
		if err := tx.Create(&row).Error; err != nil {
			return translate(err, "case")
		}
		if err := s.indexPhones(tx, c); err != nil {
			return err
		}
		if err := s.indexSNILS(tx, c.ID, c.Applicant.SNILS); err != nil {
			return err
		}
		_, err = s.writeChange(ctx, sqlQuerier{sqlTx(tx)}, c, ch, chainHeads{}, false, false, 0, nil)
		return err
	})
	if err == nil && len(ch.Notices) > 0 {
		s.db.bell.Ring()
	}
	return err
}

// sqlTx is the database/sql transaction under a gorm transaction.
func sqlTx(tx *gorm.DB) execQuerier { return tx.Statement.ConnPool.(execQuerier) }

// Update implements domain.CaseStore. A version of 0 takes whatever version is current and
// retries a few times if another command commits first.
func (s *Cases) Update(ctx context.Context, id string, version int, fn func(ctx context.Context, tx domain.CaseTx, c *domain.Case) (*domain.Change, error)) (*domain.Case, error) {
	c, _, err := s.updateFrom(ctx, id, version, nil, fn)
	return c, err
}

// decided is a case a command may be decided on without reading it (CaseCache): the case, the
// head of its history and its wide columns as they are stored.
type decided struct {
	c     *domain.Case
	heads chainHeads
	wide  wideSnapshot
}

// updateFrom runs a command, decided on from when it is given, on a fresh read otherwise. The
// change is written only if the case is still what the command was decided on; when it is not
// (errCaseMoved), the command runs again from a fresh read, which tells a stale version from a
// deadline closed meanwhile. It returns the case and the head of its history as written.
func (s *Cases) updateFrom(ctx context.Context, id string, version int, from *decided, fn func(ctx context.Context, tx domain.CaseTx, c *domain.Case) (*domain.Change, error)) (*domain.Case, chainHeads, error) {
	for again := 0; ; again++ {
		c, heads, err := s.update(ctx, id, version, from, fn)
		switch {
		case err == nil:
			return c, heads, nil
		case again < 4 && (errors.Is(err, errCaseMoved) || (domain.ErrorCode(err) == domain.ESTALE && version == 0)):
			from = nil
			continue
		case errors.Is(err, errCaseMoved):
			return nil, heads, staleVersion(id, version, 0)
		}
		return nil, heads, err
	}
}

// update runs one command: read the case (no transaction) unless it is given, let fn decide,
// write the change with one statement under the version read and the open deadlines seen. When
// fn reserves or releases a bed, that and the statement share a transaction (lazyTx);
// otherwise the statement is atomic on its own.
func (s *Cases) update(ctx context.Context, id string, version int, from *decided, fn func(ctx context.Context, tx domain.CaseTx, c *domain.Case) (*domain.Change, error)) (*domain.Case, chainHeads, error) {
	tx := &lazyTx{db: s.db, ctx: ctx}
	defer tx.rollback()
	var db querier = pgxPool{s.db}
	var d decided
	if from != nil {
		d = *from
	} else {
		c, heads, err := s.load(ctx, db, id, true)
		if err != nil {
			return nil, heads, err
		}
		d = decided{c: c, heads: heads, wide: snapshotWide(c)}
	}
	c, loaded, seen := d.c, d.c.Version, openDeadlineIDs(d.c)
	if version != 0 && loaded != version {
		return nil, d.heads, staleVersion(c.Number, version, loaded)
	}
	ch, err := fn(ctx, tx, c)
	if err != nil {
		return nil, d.heads, err
	}
	if ch == nil {
		return c, d.heads, tx.commit()
	}
	if tx.tx != nil {
		db = sqlQuerier{sqlTx(tx.tx)}
	}
	phonesChanged := c.Applicant.Phone != d.wide.applicant.Phone || !slices.Equal(c.Contacts, d.wide.contacts)
	after, err := s.writeChange(ctx, db, c, ch, d.heads, true, d.heads.oldSeal || !d.wide.same(c), loaded, seen)
	if err != nil {
		return nil, d.heads, err
	}
	if phonesChanged && s.Phones != nil {
		// A phone added to the case is found by the search from this change on.
		tx, err := tx.begin()
		if err != nil {
			return nil, d.heads, err
		}
		if err := s.indexPhones(tx, c); err != nil {
			return nil, d.heads, err
		}
	}
	if err := tx.commit(); err != nil {
		return nil, d.heads, err
	}
	if len(ch.Notices) > 0 {
		s.db.bell.Ring()
	}
	return c, after, nil
}

func staleVersion(number string, want, have int) error {
	if have == 0 {
		return domain.Errorf(domain.ESTALE, "case %s was changed by someone else meanwhile (version %d is no longer current)", number, want)
	}
	return domain.Errorf(domain.ESTALE, "case %s is at version %d, not %d: reload it and try again", number, have, want)
}

// lazyTx implements domain.CaseTx for one command: reads go to the pool, and the first
// write (a bed) begins the transaction the command's change then joins.
type lazyTx struct {
	db  *DB
	ctx context.Context
	tx  *gorm.DB
}

func (t *lazyTx) begin() (*gorm.DB, error) {
	if t.tx == nil {
		tx := t.db.Gorm.WithContext(t.ctx).Begin()
		if tx.Error != nil {
			return nil, fmt.Errorf("begin: %w", tx.Error)
		}
		t.tx = tx
	}
	return t.tx, nil
}

func (t *lazyTx) commit() error {
	if t.tx == nil {
		return nil
	}
	tx := t.tx
	t.tx = nil
	if err := tx.Commit().Error; err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (t *lazyTx) rollback() {
	if t.tx != nil {
		t.tx.Rollback()
		t.tx = nil
	}
}
