package domain

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Homes and their beds by section (../shared/domain.md "Placement"). A section is a ward kept
// apart by sex, or beds for bedridden residents; a voucher reserves a bed in a section that fits
// the person, and every bed a case holds is counted in its section in the case's transaction.

// Sex is who a section takes.
type Sex string

// Sections' sexes.
const (
	SexMale   Sex = "male"
	SexFemale Sex = "female"
	SexAny    Sex = "any"
)

// Sexes lists the sections' sexes.
var Sexes = []Sex{SexMale, SexFemale, SexAny}

// Section is a part of a home with beds of its own.
type Section struct {
	Code      string `json:"code"`
	Title     string `json:"title"`
	Sex       Sex    `json:"sex"`
	Bedridden bool   `json:"bedridden"`
	// Capacity is the beds in service; Occupied are residents' beds (kept during leave, hospital
	// and a transfer under way), Reserved are vouchers'.
	Capacity   int        `json:"capacity"`
	Occupied   int        `json:"occupied"`
	Reserved   int        `json:"reserved"`
	ReportedAt *time.Time `json:"reported_at,omitempty"`
}

// Free is the beds in service neither occupied nor reserved.
func (s Section) Free() int { return s.Capacity - s.Occupied - s.Reserved }

// Fits says whether the section takes a person with this need.
func (s Section) Fits(n BedNeed) bool {
	return (s.Sex == SexAny || s.Sex == n.Sex) && s.Bedridden == n.Bedridden
}

// BedNeed is what a section must offer a person: their sex and whether they are bedridden.
type BedNeed struct {
	Sex       Sex  `json:"sex"`
	Bedridden bool `json:"bedridden"`
}

func (n BedNeed) String() string {
	s := "a man"
	if n.Sex == SexFemale {
		s = "a woman"
	}
	if n.Bedridden {
		return s + ", bedridden"
	}
	return s + ", not bedridden"
}

// BedKind is how a case holds a bed.
type BedKind string

// How a case holds a bed.
const (
	BedReserved BedKind = "reserved"
	BedOccupied BedKind = "occupied"
)

// Bed is a bed a case held: its home and section.
type Bed struct {
	FacilityID string `json:"facility_id"`
	Section    string `json:"section"`
}

// FacilityFilter selects homes for a list.
type FacilityFilter struct {
	Type     FacilityType
	District string
}

// FacilityPatch changes a home: nil fields stay; Sections, when given, is the whole new set
// (a section left out is removed, which only an empty one may be).
type FacilityPatch struct {
	Name     *string       `json:"name"`
	Type     *FacilityType `json:"type"`
	District *string       `json:"district"`
	Address  *string       `json:"address"`
	Phone    *string       `json:"phone"`
	AgencyID *string       `json:"agency_id"`
	Active   *bool         `json:"active"`
	Sections *[]Section    `json:"sections"`
}

// BedReport is a home's report of its beds in service, per section.
type BedReport struct {
	// Capacity is the beds of a home with one section (a shorthand of the first reports).
	Capacity *int `json:"capacity"`
	Sections []struct {
		Code     string `json:"code"`
		Capacity int    `json:"capacity"`
	} `json:"sections"`
}

// BedDrift is a section whose counters disagree with the beds its cases hold.
type BedDrift struct {
	FacilityID string `json:"facility_id"`
	Section    string `json:"section"`
	// What is wrong, in a sentence (counters against the holds, or a case's hold against the case).
	Problem string `json:"problem"`
}

// BedRegister keeps the homes and their sections. Counters change only with the cases, through
// CaseTx; the register changes the rest.
type BedRegister interface {
	// CreateFacility saves a new home with its sections, giving it its id; ECONFLICT for a name
	// taken, EUNPROCESSABLE for an agency that does not exist.
	CreateFacility(ctx context.Context, f *Facility) error
	// Facility returns a home with its sections; ENOTFOUND.
	Facility(ctx context.Context, id string) (*Facility, error)
	// ListFacilities lists homes with their sections, by name.
	ListFacilities(ctx context.Context, f FacilityFilter) ([]Facility, error)
	// UpdateFacility lets fn change a home under version (ESTALE when it moved), and saves it;
	// EUNPROCESSABLE naming the section when beds in use would not fit. then, when not nil, runs
	// after the save in the same transaction (the home's sections still locked), and the
	// notices it returns are written to the outbox in it.
	UpdateFacility(ctx context.Context, id string, version int, fn func(f *Facility) error, then FacilityThen) (*Facility, error)
	// VerifyBeds recomputes every section's counters from the beds the cases hold.
	VerifyBeds(ctx context.Context) ([]BedDrift, error)
}

// FacilityThen runs in a home's transaction after it is saved: before and after are the home
// as it was and as saved; it returns the notices to write with it.
type FacilityThen func(ctx context.Context, tx CaseTx, before, after *Facility) ([]Notice, error)

var sectionCode = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// Stale says whether the home has not reported its beds within maxDays (never counts).
func (f Facility) Stale(now time.Time, maxDays int) bool {
	return f.Active && (f.ReportedAt == nil || f.ReportedAt.Before(StaleBefore(now, maxDays)))
}

// check validates a home as it is to be saved.
func (f *Facility) check() error {
	f.Name, f.District = strings.TrimSpace(f.Name), strings.TrimSpace(f.District)
	f.Address, f.Phone = strings.TrimSpace(f.Address), strings.TrimSpace(f.Phone)
	switch {
	case f.Name == "" || utf8.RuneCountInString(f.Name) > 300:
		return Invalid("name", "must be 1 to 300 characters")
	case utf8.RuneCountInString(f.District) > 200:
		return Invalid("district", "must be at most 200 characters")
	case utf8.RuneCountInString(f.Address) > 500:
		return Invalid("address", "must be at most 500 characters")
	case utf8.RuneCountInString(f.Phone) > 50:
		return Invalid("phone", "must be at most 50 characters")
	case f.AgencyID != "" && !IsUUID(f.AgencyID):
		return Invalid("agency_id", "must be a UUID")
	case len(f.Sections) == 0 || len(f.Sections) > 50:
		return Invalid("sections", "a home has 1 to 50 sections")
	}
	if err := oneOf("type", f.Type, FacilityTypes); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i := range f.Sections {
		s := &f.Sections[i]
		field := fmt.Sprintf("sections[%d]", i)
		s.Title = strings.TrimSpace(s.Title)
		switch {
		case !sectionCode.MatchString(s.Code):
			return Invalid(field+".code", "must be 1 to 32 of a-z, 0-9, _ and -")
		case seen[s.Code]:
			return Invalid(field+".code", "section %s is given twice", s.Code)
		case s.Title == "" || utf8.RuneCountInString(s.Title) > 200:
			return Invalid(field+".title", "must be 1 to 200 characters")
		case s.Capacity < 0 || s.Capacity > 100000:
			return Invalid(field+".capacity", "must be between 0 and 100000")
		}
		if err := oneOf(field+".sex", s.Sex, Sexes); err != nil {
			return err
		}
		seen[s.Code] = true
	}
	return nil
}

// bedsFit refuses, naming the sections, a home whose sections would hold fewer beds than are in
// use, or would lose a section with beds in use. before is the home as it is stored.
func bedsFit(before, after *Facility) error {
	var reasons []Reason
	for _, old := range before.Sections {
		used := old.Occupied + old.Reserved
		found := false
		for _, s := range after.Sections {
			if s.Code == old.Code {
				found = true
				if s.Capacity < used {
					reasons = append(reasons, because("sections", "section %s (%s) has %d beds occupied or reserved: capacity cannot be %d", s.Code, old.Title, used, s.Capacity))
				}
			}
		}
		if !found && used > 0 {
			reasons = append(reasons, because("sections", "section %s (%s) has %d beds occupied or reserved: it cannot be removed", old.Code, old.Title, used))
		}
	}
	if len(reasons) > 0 {
		return refuse(reasons...)
	}
	return nil
}

// CreateFacility adds a home to the registry.
func (s *Service) CreateFacility(ctx context.Context, f Facility) (*Facility, error) {
	f.ID, f.Version, f.Active = "", 1, true
	for i := range f.Sections {
		f.Sections[i].Occupied, f.Sections[i].Reserved, f.Sections[i].ReportedAt = 0, 0, nil
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	if err := s.Beds.CreateFacility(ctx, &f); err != nil {
		return nil, err
	}
	return s.Beds.Facility(ctx, f.ID)
}

// Facility returns one home with its sections.
func (s *Service) Facility(ctx context.Context, id string) (*Facility, error) {
	if !IsUUID(id) {
		return nil, Errorf(ENOTFOUND, "facility %s not found", id)
	}
	return s.Beds.Facility(ctx, id)
}

// AgencyFacilities lists the homes a facility agency reports for, with their sections (the
// partner page); nothing for any other actor.
func (s *Service) AgencyFacilities(ctx context.Context, actor Actor) ([]Facility, error) {
	out := []Facility{}
	if actor.Kind != ActorAgency {
		return out, nil
	}
	for _, id := range actor.Facilities {
		f, err := s.Facility(ctx, id)
		if err != nil {
			if ErrorCode(err) == ENOTFOUND {
				continue
			}
			return nil, err
		}
		out = append(out, *f)
	}
	return out, nil
}

// ListFacilities lists the homes, with a type or a district.
func (s *Service) ListFacilities(ctx context.Context, f FacilityFilter) ([]Facility, error) {
	if f.Type != "" {
		if err := oneOf("type", f.Type, FacilityTypes); err != nil {
			return nil, err
		}
	}
	return s.Beds.ListFacilities(ctx, f)
}

// UpdateFacility changes a home under the version its client saw.
func (s *Service) UpdateFacility(ctx context.Context, id string, version int, p FacilityPatch) (*Facility, error) {
	if !IsUUID(id) {
		return nil, Errorf(ENOTFOUND, "facility %s not found", id)
	}
	return s.Beds.UpdateFacility(ctx, id, version, func(f *Facility) error {
		before := *f
		before.Sections = append([]Section(nil), f.Sections...)
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&f.Name, p.Name)
		set(&f.District, p.District)
		set(&f.Address, p.Address)
		set(&f.Phone, p.Phone)
		set(&f.AgencyID, p.AgencyID)
		if p.Type != nil {
			f.Type = *p.Type
		}
		if p.Active != nil {
			f.Active = *p.Active
		}
		if p.Sections != nil {
			f.Sections = mergeSections(before.Sections, *p.Sections)
		}
		if err := f.check(); err != nil {
			return err
		}
		return bedsFit(&before, f)
	}, s.offerGrownBeds)
}

// mergeSections is the new set of sections, keeping each old one's counters.
func mergeSections(old, next []Section) []Section {
	out := make([]Section, len(next))
	for i, s := range next {
		s.Occupied, s.Reserved, s.ReportedAt = 0, 0, nil
		for _, o := range old {
			if o.Code == s.Code {
				s.Occupied, s.Reserved, s.ReportedAt = o.Occupied, o.Reserved, o.ReportedAt
			}
		}
		out[i] = s
	}
	return out
}

// ReportBeds records the beds in service a home reports, per section (free beds are those not
// occupied or reserved). A facility agency reports only for its own homes.
func (s *Service) ReportBeds(ctx context.Context, actor Actor, facilityID string, r BedReport) (*Facility, error) {
	if !IsUUID(facilityID) || (actor.Kind == ActorAgency && !ownFacility(actor, facilityID)) {
		return nil, Errorf(ENOTFOUND, "facility %s not found", facilityID)
	}
	if (r.Capacity == nil) == (len(r.Sections) == 0) {
		return nil, Invalid("sections", "give the sections' capacities (or capacity alone for a home with one section)")
	}
	if r.Capacity != nil && (*r.Capacity < 0 || *r.Capacity > 100000) {
		return nil, Invalid("capacity", "must be between 0 and 100000")
	}
	now := s.now()
	return s.Beds.UpdateFacility(ctx, facilityID, 0, func(f *Facility) error {
		before := *f
		before.Sections = append([]Section(nil), f.Sections...)
		if r.Capacity != nil {
			if len(f.Sections) != 1 {
				return Invalid("capacity", "%s has %d sections: report each one's capacity", f.Name, len(f.Sections))
			}
			f.Sections[0].Capacity, f.Sections[0].ReportedAt = *r.Capacity, &now
		}
		for i, rs := range r.Sections {
			found := false
			for j := range f.Sections {
				if f.Sections[j].Code == rs.Code {
					if rs.Capacity < 0 || rs.Capacity > 100000 {
						return Invalid(fmt.Sprintf("sections[%d].capacity", i), "must be between 0 and 100000")
					}
					f.Sections[j].Capacity, f.Sections[j].ReportedAt, found = rs.Capacity, &now, true
				}
			}
			if !found {
				return Invalid(fmt.Sprintf("sections[%d].code", i), "%s has no section %q", f.Name, rs.Code)
			}
		}
		f.ReportedAt = &now
		return bedsFit(&before, f)
	}, s.offerGrownBeds)
}

// offerGrownBeds offers the beds a home's change freed (more capacity, a section added, the
// home active again) to the first eligible waiting cases, as when a resident's bed frees: in
// the home's transaction, with the notices to the cases' specialists.
func (s *Service) offerGrownBeds(ctx context.Context, tx CaseTx, before, after *Facility) ([]Notice, error) {
	if !after.Active {
		return nil, nil
	}
	var grown []Bed
	for _, sec := range after.Sections {
		was := 0
		if before.Active {
			for _, old := range before.Sections {
				if old.Code == sec.Code {
					was = old.Free()
				}
			}
		}
		if sec.Free() > was && sec.Free() > 0 {
			grown = append(grown, Bed{FacilityID: after.ID, Section: sec.Code})
		}
	}
	if len(grown) == 0 {
		return nil, nil
	}
	notices, _, err := s.proposeOffers(ctx, tx, grown, "", s.now())
	return notices, err
}

// VerifyBeds recomputes the beds from the cases and lists every disagreement.
func (s *Service) VerifyBeds(ctx context.Context) ([]BedDrift, error) { return s.Beds.VerifyBeds(ctx) }
