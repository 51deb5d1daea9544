package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"carepath/domain"
)

// Identities implements domain.Identities: specialists, agencies and the hashes of their
// credentials.
type Identities struct{ db *DB }

// NewIdentities returns the identity store.
func NewIdentities(db *DB) *Identities { return &Identities{db: db} }

type userRow struct {
	ID         string `gorm:"primaryKey;default:gen_random_uuid()"`
	Name       string
	Role       string
	Email      string
	Phone      string
	CreatedAt  time.Time
	DisabledAt *time.Time
}

func (userRow) TableName() string { return "users" }

func (r userRow) domain() domain.User {
	return domain.User{ID: r.ID, Name: r.Name, Role: r.Role, Email: r.Email, Phone: r.Phone, CreatedAt: r.CreatedAt.UTC(), DisabledAt: r.DisabledAt}
}

// CreateUser implements domain.Identities.
func (s *Identities) CreateUser(ctx context.Context, u *domain.User, tok domain.Credential) error {
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row := userRow{Name: u.Name, Role: u.Role, Email: u.Email, Phone: u.Phone, CreatedAt: u.CreatedAt}
		if err := tx.Create(&row).Error; err != nil {
			return translate(err, "user "+u.Name)
		}
		u.ID = row.ID
		return addToken(tx, u.ID, tok)
	})
}

func addToken(tx *gorm.DB, userID string, tok domain.Credential) error {
	if tok.ExpiresAt == nil {
		return fmt.Errorf("a token needs an expiry")
	}
	err := tx.Exec("INSERT INTO user_tokens (user_id, token_hash, expires_at) VALUES (?, ?, ?)", userID, tok.Hash, *tok.ExpiresAt).Error
	return translate(err, "token")
}

// Users implements domain.Identities.
func (s *Identities) Users(ctx context.Context) ([]domain.User, error) {
	var rows []userRow
	if err := s.db.Gorm.WithContext(ctx).Order("lower(name)").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make([]domain.User, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// User implements domain.Identities and domain.UserDirectory.
func (s *Identities) User(ctx context.Context, id string) (*domain.User, error) {
	var row userRow
	if err := findOne(s.db.Gorm.WithContext(ctx).Where("id = ?", id), &row, "user", id); err != nil {
		return nil, err
	}
	u := row.domain()
	return &u, nil
}

// AddToken implements domain.Identities.
func (s *Identities) AddToken(ctx context.Context, userID string, tok domain.Credential) error {
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Raw("SELECT count(*) FROM users WHERE id = ? AND disabled_at IS NULL", userID).Scan(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return domain.Errorf(domain.ENOTFOUND, "user %s not found or disabled", userID)
		}
		return addToken(tx, userID, tok)
	})
}

// RevokeTokens implements domain.Identities.
func (s *Identities) RevokeTokens(ctx context.Context, userID string, at time.Time) (int, error) {
	if _, err := s.User(ctx, userID); err != nil {
		return 0, err
	}
	res := s.db.Gorm.WithContext(ctx).Exec("UPDATE user_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", at, userID)
	if res.Error != nil {
		return 0, fmt.Errorf("revoke tokens of user %s: %w", userID, res.Error)
	}
	return int(res.RowsAffected), nil
}

// HasAdmin implements domain.Identities.
func (s *Identities) HasAdmin(ctx context.Context) (bool, error) {
	var n int64
	err := s.db.Gorm.WithContext(ctx).Raw("SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL").Scan(&n).Error
	return n > 0, err
}

type agencyRow struct {
	ID          string
	Name        string
	Kind        string
	WebhookURL  string
	HasSecret   bool
	Happenings  string
	FacilityIDs string
	CreatedAt   time.Time
}

const agencySelect = `SELECT a.id, a.name, a.kind, a.webhook_url, a.webhook_secret <> '' AS has_secret,
	array_to_string(a.webhook_happenings, ',') AS happenings,
	coalesce((SELECT string_agg(f.id::text, ',' ORDER BY f.id) FROM facilities f WHERE f.agency_id = a.id), '') AS facility_ids,
	a.created_at FROM agencies a`

func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func (r agencyRow) domain() domain.Agency {
	return domain.Agency{ID: r.ID, Name: r.Name, Kind: domain.AgencyKind(r.Kind), WebhookURL: r.WebhookURL, HasSecret: r.HasSecret,
		Happenings: splitList(r.Happenings), FacilityIDs: splitList(r.FacilityIDs), CreatedAt: r.CreatedAt.UTC()}
}

// CreateAgency implements domain.Identities.
func (s *Identities) CreateAgency(ctx context.Context, a *domain.Agency, key domain.Credential, webhookSecret string) error {
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Raw(`INSERT INTO agencies (name, kind, webhook_url, webhook_secret, webhook_happenings, created_at)
			VALUES (?, ?, ?, ?, ?::text[], ?) RETURNING id`, a.Name, string(a.Kind), a.WebhookURL, webhookSecret,
			"{"+strings.Join(a.Happenings, ",")+"}", a.CreatedAt).Scan(&a.ID).Error
		if err != nil {
			return translate(err, "agency "+a.Name)
		}
		for _, fid := range a.FacilityIDs {
			res := tx.Exec("UPDATE facilities SET agency_id = ? WHERE id = ? AND agency_id IS NULL", a.ID, fid)
			if res.Error != nil {
				return translate(res.Error, "facility")
			}
			if res.RowsAffected == 0 {
				return domain.Errorf(domain.EUNPROCESSABLE, "facility %s does not exist or already belongs to an agency", fid)
			}
		}
		return translate(tx.Exec("INSERT INTO agency_keys (agency_id, key_hash) VALUES (?, ?)", a.ID, key.Hash).Error, "agency key")
	})
}

// Agencies implements domain.Identities.
func (s *Identities) Agencies(ctx context.Context) ([]domain.Agency, error) {
	var rows []agencyRow
	if err := s.db.Gorm.WithContext(ctx).Raw(agencySelect + " ORDER BY a.kind, a.name").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list agencies: %w", err)
	}
	out := make([]domain.Agency, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// Agency implements domain.Identities.
func (s *Identities) Agency(ctx context.Context, id string) (*domain.Agency, error) {
	var rows []agencyRow
	if err := s.db.Gorm.WithContext(ctx).Raw(agencySelect+" WHERE a.id = ?", id).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("load agency %s: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, domain.Errorf(domain.ENOTFOUND, "agency %s not found", id)
	}
	a := rows[0].domain()
	return &a, nil
}

// RotateAgencyKey implements domain.Identities.
func (s *Identities) RotateAgencyKey(ctx context.Context, agencyID string, key domain.Credential, oldUntil time.Time) error {
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		// Locking the agency row serialises concurrent rotations of one agency.
		if err := tx.Raw("SELECT count(*) FROM (SELECT 1 FROM agencies WHERE id = ? FOR UPDATE) a", agencyID).Scan(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return domain.Errorf(domain.ENOTFOUND, "agency %s not found", agencyID)
		}
		err := tx.Exec(`UPDATE agency_keys SET expires_at = ? WHERE agency_id = ? AND revoked_at IS NULL
			AND (expires_at IS NULL OR expires_at > ?)`, oldUntil, agencyID, oldUntil).Error
		if err != nil {
			return fmt.Errorf("expire old keys: %w", err)
		}
		return translate(tx.Exec("INSERT INTO agency_keys (agency_id, key_hash) VALUES (?, ?)", agencyID, key.Hash).Error, "agency key")
	})
}

// SetWebhook implements domain.Identities.
func (s *Identities) SetWebhook(ctx context.Context, agencyID string, w domain.Webhook) error {
	happenings := "{" + strings.Join(w.Happenings, ",") + "}"
	var res *gorm.DB
	if w.Secret != "" {
		res = s.db.Gorm.WithContext(ctx).Exec("UPDATE agencies SET webhook_url = ?, webhook_secret = ?, webhook_happenings = ?::text[] WHERE id = ?",
			w.URL, w.Secret, happenings, agencyID)
	} else {
		res = s.db.Gorm.WithContext(ctx).Exec("UPDATE agencies SET webhook_url = ?, webhook_happenings = ?::text[] WHERE id = ?",
			w.URL, happenings, agencyID)
	}
	if res.Error != nil {
		return fmt.Errorf("set webhook: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return domain.Errorf(domain.ENOTFOUND, "agency %s not found", agencyID)
	}
	return nil
}

// ActorByCredential implements domain.Identities: one indexed lookup in each credential table.
func (s *Identities) ActorByCredential(ctx context.Context, hash string, now time.Time) (domain.Actor, error) {
	// database/sql and positional parameters: every request of every caller runs this
	rows, err := s.db.SQL.QueryContext(ctx, `
		SELECT 'user' AS kind, u.id::text AS id, u.name, u.role, '' AS facilities
		FROM user_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND u.disabled_at IS NULL
		UNION ALL
		SELECT 'agency', a.id::text, a.name, a.kind,
			coalesce((SELECT string_agg(f.id::text, ',' ORDER BY f.id) FROM facilities f WHERE f.agency_id = a.id), '')
		FROM agency_keys k JOIN agencies a ON a.id = k.agency_id
		WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $2) AND a.disabled_at IS NULL`,
		hash, now)
	if err != nil {
		return domain.Actor{}, fmt.Errorf("look up credential: %w", err)
	}
	defer rows.Close()
	type found struct{ Kind, ID, Name, Role, Facilities string }
	var all []found
	for rows.Next() {
		var f found
		if err := rows.Scan(&f.Kind, &f.ID, &f.Name, &f.Role, &f.Facilities); err != nil {
			return domain.Actor{}, fmt.Errorf("look up credential: %w", err)
		}
		all = append(all, f)
	}
	if err := rows.Err(); err != nil {
		return domain.Actor{}, fmt.Errorf("look up credential: %w", err)
	}
	if len(all) != 1 {
		return domain.Actor{}, domain.Errorf(domain.ENOTFOUND, "no such credential")
	}
	r := all[0]
	a := domain.Actor{ID: r.ID, Name: r.Name, Kind: r.Kind, Role: r.Role}
	if r.Kind == domain.ActorAgency {
		a.Facilities = splitList(r.Facilities)
	}
	return a, nil
}

// LeastBusySpecialist implements domain.Assigner: each enabled specialist's cases in the open
// states are counted through cases_assignee_seq.
func (s *Identities) LeastBusySpecialist(ctx context.Context, open []domain.State) (string, error) {
	states := make([]string, len(open)) // state names: plain identifiers, nothing to quote
	for i, st := range open {
		states[i] = string(st)
	}
	var ids []string
	err := s.db.Gorm.WithContext(ctx).Raw(`SELECT u.id::text FROM users u WHERE u.role = 'specialist' AND u.disabled_at IS NULL
		ORDER BY (SELECT count(*) FROM cases c WHERE c.assignee_id = u.id AND c.state::text = ANY (?::text[])), u.created_at, u.id LIMIT 1`,
		"{"+strings.Join(states, ",")+"}").Scan(&ids).Error
	if err != nil {
		return "", fmt.Errorf("least busy specialist: %w", err)
	}
	if len(ids) == 0 {
		return "", nil
	}
	return ids[0], nil
}
