package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"carepath/domain"
)

// The homes, their sections, and the beds cases hold (migration 00020). A section's counters
// change only together with a bed_holds row, in the transaction of the case that takes or frees
// the bed (lazyTx); VerifyBeds recomputes both from the cases.

type facilityRow struct {
	ID         string `gorm:"primaryKey"`
	Name       string
	Type       string
	District   string
	Address    string
	Phone      string
	AgencyID   *string
	Active     bool
	Version    int
	Capacity   int
	Taken      int
	ReportedAt *time.Time
}

func (facilityRow) TableName() string { return "facilities" }

func (f facilityRow) domain() domain.Facility {
	return domain.Facility{ID: f.ID, Name: f.Name, Type: domain.FacilityType(f.Type), District: f.District, Address: f.Address,
		Phone: f.Phone, AgencyID: deref(f.AgencyID), Active: f.Active, Version: f.Version, Capacity: f.Capacity, Taken: f.Taken,
		ReportedAt: utcPtr(f.ReportedAt), Sections: []domain.Section{}}
}

type sectionRow struct {
	FacilityID string
	Code       string
	Title      string
	Sex        string
	Bedridden  bool
	Capacity   int
	Occupied   int
	Reserved   int
	ReportedAt *time.Time
}

func (sectionRow) TableName() string { return "facility_sections" }

func (r sectionRow) domain() domain.Section {
	return domain.Section{Code: r.Code, Title: r.Title, Sex: domain.Sex(r.Sex), Bedridden: r.Bedridden, Capacity: r.Capacity,
		Occupied: r.Occupied, Reserved: r.Reserved, ReportedAt: utcPtr(r.ReportedAt)}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// loadFacility reads a home with its sections (locked for update when lock).
func loadFacility(db *gorm.DB, id string, lock bool) (*domain.Facility, error) {
	q, sq := db.Where("id = ?", id), db.Where("facility_id = ?", id).Order("code")
	if lock {
		q, sq = q.Clauses(clause.Locking{Strength: "UPDATE"}), sq.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var r facilityRow
	if err := findOne(q, &r, "facility", id); err != nil {
		return nil, err
	}
	var secs []sectionRow
	if err := sq.Find(&secs).Error; err != nil {
		return nil, fmt.Errorf("sections of facility %s: %w", id, err)
	}
	f := r.domain()
	for _, s := range secs {
		f.Sections = append(f.Sections, s.domain())
	}
	return &f, nil
}

// Facility implements domain.BedRegister.
func (s *Cases) Facility(ctx context.Context, id string) (*domain.Facility, error) {
	return loadFacility(s.db.Gorm.WithContext(ctx), id, false)
}

// ListFacilities implements domain.BedRegister: the homes, then their sections in one query.
func (s *Cases) ListFacilities(ctx context.Context, f domain.FacilityFilter) ([]domain.Facility, error) {
	db := s.db.Gorm.WithContext(ctx)
	q := db.Order("name")
	if f.Type != "" {
		q = q.Where("type = ?", string(f.Type))
	}
	if f.District != "" {
		q = q.Where("district = ?", f.District)
	}
	var rows []facilityRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list facilities: %w", err)
	}
	out := make([]domain.Facility, len(rows))
	at := map[string]int{}
	ids := make([]string, len(rows))
	for i, r := range rows {
		out[i], at[r.ID], ids[i] = r.domain(), i, r.ID
	}
	if len(ids) == 0 {
		return out, nil
	}
	var secs []sectionRow
	if err := db.Where("facility_id IN ?", ids).Order("facility_id, code").Find(&secs).Error; err != nil {
		return nil, fmt.Errorf("list sections: %w", err)
	}
	for _, sr := range secs {
		i := at[sr.FacilityID]
		out[i].Sections = append(out[i].Sections, sr.domain())
	}
	return out, nil
}

// CreateFacility implements domain.BedRegister.
func (s *Cases) CreateFacility(ctx context.Context, f *domain.Facility) error {
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := checkFacilityAgency(tx, f.AgencyID); err != nil {
			return err
		}
		err := tx.Raw(`INSERT INTO facilities (name, type, district, address, phone, agency_id, active, capacity)
			VALUES (?, ?, ?, ?, ?, ?, ?, 0) RETURNING id`, f.Name, string(f.Type), f.District, f.Address, f.Phone,
			nullable(f.AgencyID), f.Active).Scan(&f.ID).Error
		if err != nil {
			return translate(err, "facility")
		}
		return saveSections(tx, f, nil)
	})
}

func checkFacilityAgency(tx *gorm.DB, id string) error {
	if id == "" {
		return nil
	}
	var n int64
	if err := tx.Raw("SELECT count(*) FROM agencies WHERE id = ? AND kind = 'facility'", id).Scan(&n).Error; err != nil {
		return fmt.Errorf("check agency %s: %w", id, err)
	}
	if n == 0 {
		return domain.ErrorOn(domain.EUNPROCESSABLE, "agency_id", "agency %s is not a facility agency", id)
	}
	return nil
}

// saveSections writes the home's sections (not their counters) and removes those no longer
// there; before is the home as it was stored.
func saveSections(tx *gorm.DB, f *domain.Facility, before *domain.Facility) error {
	if before != nil {
		for _, old := range before.Sections {
			kept := false
			for _, s := range f.Sections {
				kept = kept || s.Code == old.Code
			}
			if !kept {
				if err := tx.Exec("DELETE FROM facility_sections WHERE facility_id = ? AND code = ?", f.ID, old.Code).Error; err != nil {
					return translate(err, "section "+old.Code)
				}
			}
		}
	}
	for _, sec := range f.Sections {
		err := tx.Exec(`INSERT INTO facility_sections (facility_id, code, title, sex, bedridden, capacity, reported_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (facility_id, code) DO UPDATE SET title = excluded.title, sex = excluded.sex,
				bedridden = excluded.bedridden, capacity = excluded.capacity, reported_at = excluded.reported_at`,
			f.ID, sec.Code, sec.Title, string(sec.Sex), sec.Bedridden, sec.Capacity, sec.ReportedAt).Error
		if err != nil {
			return translate(err, "section "+sec.Code)
		}
	}
	return nil
}

// UpdateFacility implements domain.BedRegister: the home and its sections locked, fn decides,
// the home saved with a new version. The sections' locks keep reservations out meanwhile.
func (s *Cases) UpdateFacility(ctx context.Context, id string, version int, fn func(f *domain.Facility) error, then domain.FacilityThen) (*domain.Facility, error) {
	var out *domain.Facility
	rang := false
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		f, err := loadFacility(tx, id, true)
		if err != nil {
			return err
		}
		if version != 0 && f.Version != version {
			return domain.Errorf(domain.ESTALE, "facility %s is at version %d, not %d: reload it and try again", f.Name, f.Version, version)
		}
		before := *f
		before.Sections = append([]domain.Section(nil), f.Sections...)
		if err := fn(f); err != nil {
			return err
		}
		if err := checkFacilityAgency(tx, f.AgencyID); err != nil {
			return err
		}
		err = tx.Exec(`UPDATE facilities SET name = ?, type = ?, district = ?, address = ?, phone = ?, agency_id = ?, active = ?,
			reported_at = ?, version = version + 1 WHERE id = ?`, f.Name, string(f.Type), f.District, f.Address, f.Phone,
			nullable(f.AgencyID), f.Active, f.ReportedAt, f.ID).Error
		if err != nil {
			return translate(err, "facility")
		}
		if err := saveSections(tx, f, &before); err != nil {
			return err
		}
		out, err = loadFacility(tx, id, false)
		if err != nil || then == nil {
			return err
		}
		// the offers of beds the change freed, and their notices, in the home's transaction
		notices, err := then(ctx, &lazyTx{db: s.db, ctx: ctx, tx: tx}, &before, out)
		if err != nil {
			return err
		}
		if len(notices) == 0 {
			return nil
		}
		rang = true
		st := named(noticesInsertSQL)
		if _, err := sqlTx(tx).ExecContext(ctx, st.sql, st.args(changeArgs{"notices": noticesJSON(notices)})...); err != nil {
			return fmt.Errorf("notices of home %s: %w", id, err)
		}
		return nil
	})
	if err == nil && rang {
		s.db.bell.Ring()
	}
	return out, err
}

// Facility implements domain.CaseTx.
func (t *lazyTx) Facility(ctx context.Context, id string) (*domain.Facility, error) {
	db := t.tx
	if db == nil {
		db = t.db.Gorm.WithContext(ctx)
	}
	return loadFacility(db, id, false)
}

// ReserveBed implements domain.CaseTx: the fitting sections with a free bed, a section of the
// person's sex before a mixed one; the UPDATE checks the bed is still free under the row's
// lock, so of two commands racing for the last bed one finds it taken and tries the next.
func (t *lazyTx) ReserveBed(ctx context.Context, caseID, facilityID string, need domain.BedNeed) (string, error) {
	tx, err := t.begin()
	if err != nil {
		return "", err
	}
	var codes []string
	err = tx.Raw(`SELECT code FROM facility_sections WHERE facility_id = ? AND sex IN (?, 'any') AND bedridden = ?
		AND occupied + reserved < capacity ORDER BY sex = 'any', code`, facilityID, string(need.Sex), need.Bedridden).Scan(&codes).Error
	if err != nil {
		return "", fmt.Errorf("reserve bed: %w", err)
	}
	for _, code := range codes {
		res := tx.Exec(`UPDATE facility_sections SET reserved = reserved + 1
			WHERE facility_id = ? AND code = ? AND occupied + reserved < capacity`, facilityID, code)
		if res.Error != nil {
			return "", fmt.Errorf("reserve bed: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			err := tx.Exec(`INSERT INTO bed_holds (case_id, kind, facility_id, section_code) VALUES (?, 'reserved', ?, ?)`,
				caseID, facilityID, code).Error
			if err != nil {
				return "", fmt.Errorf("reserve bed: %w", err)
			}
			return code, nil
		}
	}
	return "", domain.Errorf(domain.EUNPROCESSABLE, "no free bed")
}

// OccupyBed implements domain.CaseTx.
func (t *lazyTx) OccupyBed(ctx context.Context, caseID string) (*domain.Bed, error) {
	tx, err := t.begin()
	if err != nil {
		return nil, err
	}
	var beds []domain.Bed
	err = tx.Raw(`UPDATE bed_holds SET kind = 'occupied', since = now() WHERE case_id = ? AND kind = 'reserved'
		RETURNING facility_id::text, section_code AS section`, caseID).Scan(&beds).Error
	if err != nil {
		return nil, fmt.Errorf("occupy bed: %w", err)
	}
	if len(beds) == 0 {
		return nil, nil
	}
	b := beds[0]
	err = tx.Exec(`UPDATE facility_sections SET reserved = reserved - 1, occupied = occupied + 1 WHERE facility_id = ? AND code = ?`,
		b.FacilityID, b.Section).Error
	if err != nil {
		return nil, fmt.Errorf("occupy bed: %w", err)
	}
	return &b, nil
}

// ReleaseBed implements domain.CaseTx.
func (t *lazyTx) ReleaseBed(ctx context.Context, caseID string, kind domain.BedKind) (*domain.Bed, error) {
	tx, err := t.begin()
	if err != nil {
		return nil, err
	}
	var beds []domain.Bed
	err = tx.Raw(`DELETE FROM bed_holds WHERE case_id = ? AND kind = ? RETURNING facility_id::text, section_code AS section`,
		caseID, string(kind)).Scan(&beds).Error
	if err != nil {
		return nil, fmt.Errorf("release bed: %w", err)
	}
	if len(beds) == 0 {
		return nil, nil
	}
	b := beds[0]
	err = tx.Exec(`UPDATE facility_sections SET `+string(kind)+` = `+string(kind)+` - 1 WHERE facility_id = ? AND code = ?`,
		b.FacilityID, b.Section).Error
	if err != nil {
		return nil, fmt.Errorf("release bed: %w", err)
	}
	return &b, nil
}

// occupyingStates are the states in which a resident keeps their bed (with voucher_issued for
// a transfer's voucher); the one definition for VerifyBeds and beds_rebuild's SQL twin.
const occupyingStates = `('residing', 'on_leave', 'hospitalized', 'transfer_pending', 'voucher_issued')`

// VerifyBeds implements domain.BedRegister: counters against the holds, holds against the
// cases, and cases holding a bed without a hold.
func (s *Cases) VerifyBeds(ctx context.Context) ([]domain.BedDrift, error) {
	var out []domain.BedDrift
	err := s.db.Gorm.WithContext(ctx).Raw(`
		SELECT s.facility_id::text, s.code AS section,
			format('counters say %s occupied, %s reserved; the cases hold %s occupied, %s reserved',
				s.occupied, s.reserved, coalesce(h.occupied, 0), coalesce(h.reserved, 0)) AS problem
		FROM facility_sections s
		LEFT JOIN (SELECT facility_id, section_code, count(*) FILTER (WHERE kind = 'occupied') AS occupied,
				count(*) FILTER (WHERE kind = 'reserved') AS reserved FROM bed_holds GROUP BY 1, 2) h
			ON h.facility_id = s.facility_id AND h.section_code = s.code
		WHERE (s.occupied, s.reserved) IS DISTINCT FROM (coalesce(h.occupied, 0)::int, coalesce(h.reserved, 0)::int)
		UNION ALL
		SELECT b.facility_id::text, b.section_code, format('case %s holds a %s bed here but is %s', c.number, b.kind, c.state)
		FROM bed_holds b JOIN cases c ON c.id = b.case_id
		WHERE NOT CASE b.kind
			WHEN 'reserved' THEN c.state = 'voucher_issued' AND c.voucher_facility_id = b.facility_id
			ELSE c.state IN ` + occupyingStates + ` AND c.facility_id = b.facility_id END
		UNION ALL
		SELECT coalesce(c.voucher_facility_id::text, ''), '', format('case %s has a voucher but no reserved bed', c.number)
		FROM cases c WHERE c.state = 'voucher_issued'
			AND NOT EXISTS (SELECT 1 FROM bed_holds b WHERE b.case_id = c.id AND b.kind = 'reserved')
		UNION ALL
		SELECT c.facility_id::text, '', format('case %s lives in the home but holds no bed there', c.number)
		FROM cases c WHERE c.facility_id IS NOT NULL AND c.state IN ` + occupyingStates + `
			AND NOT EXISTS (SELECT 1 FROM bed_holds b WHERE b.case_id = c.id AND b.kind = 'occupied')
		UNION ALL
		SELECT f.id::text, '', format('the home says %s beds, %s taken; its sections %s, %s', f.capacity, f.taken, x.capacity, x.taken)
		FROM facilities f JOIN (SELECT facility_id, sum(capacity) AS capacity, sum(occupied + reserved) AS taken
			FROM facility_sections GROUP BY 1) x ON x.facility_id = f.id
		WHERE (f.capacity, f.taken) IS DISTINCT FROM (x.capacity::int, x.taken::int)
		ORDER BY 1, 2, 3`).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("verify beds: %w", err)
	}
	return out, nil
}
