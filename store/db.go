// Package store keeps carepath's data in PostgreSQL through gorm: it implements the domain's
// storage ports, applies the embedded migrations and loads the production calendar.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"carepath/domain"
	"carepath/migrations"
)

// DB is the database handle shared by the stores.
type DB struct {
	Gorm *gorm.DB
	SQL  *sql.DB
	URL  string
	// bell rings the notices relay after commits that wrote notices.
	bell *relayBell
	// closed is closed by Close: the store's background goroutines end.
	closed chan struct{}
	// conf is the pool's connection configuration (ConnConfig copies it).
	conf *pgx.ConnConfig
	// access is this process's writer of the access log (AccessLog), shared by its stores.
	access *accessWriter
}

// Options tune the pool.
type Options struct {
	MaxOpenConns int
	// AsyncCommit turns synchronous_commit off for this pool: a commit returns before its WAL
	// is flushed, and a crash of PostgreSQL may forget the last fraction of a second of commits
	// (never part of one). For the notices' delivery log only, where a forgotten mark means a
	// notice is sent again under the same idempotency key.
	AsyncCommit bool
	// ReadOnly makes every session of this pool read-only (default_transaction_read_only), never
	// creates the database and does not connect until first used: a pool on a standby
	// (DATABASE_READ_URL), for the read-mostly work that tolerates a second of replication lag.
	// A write through it fails.
	ReadOnly bool
}

// EnsureDatabase creates the database named in the URL when it does not exist yet, connecting
// to the server's "postgres" database to do so.
func EnsureDatabase(ctx context.Context, dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("DATABASE_URL %q is not a postgres:// URL", dsn)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return fmt.Errorf("DATABASE_URL %q names no database", dsn)
	}
	admin := *u
	admin.Path = "/postgres"
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		return fmt.Errorf("connect to postgres at %s: %w", u.Host, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // created meanwhile by someone else
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// Open connects to the database (creating it when missing).
func Open(ctx context.Context, dsn string, opt Options) (*DB, error) {
	if !opt.ReadOnly {
		if err := EnsureDatabase(ctx, dsn); err != nil {
			return nil, err
		}
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if opt.AsyncCommit {
		cfg.RuntimeParams["synchronous_commit"] = "off"
	}
	if opt.ReadOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	sqlDB := stdlib.OpenDB(*cfg)
	if opt.MaxOpenConns == 0 {
		opt.MaxOpenConns = 32
	}
	sqlDB.SetMaxOpenConns(opt.MaxOpenConns)
	sqlDB.SetMaxIdleConns(opt.MaxOpenConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	g, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		// pgx prepares and caches each statement per connection by itself. gorm's own layer on
		// top goes through database/sql's Tx.Stmt, which prepares every statement again on the
		// transaction's connection and closes it at commit: two more round trips per statement
		// of every command (docs/BENCHMARKS.md).
		PrepareStmt: false,
		NowFunc:     func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open gorm: %w", err)
	}
	// A read-only pool is on a standby that may be away at start: it connects on first use, and
	// its reader falls back to the primary meanwhile (the caller may ping it and warn).
	if !opt.ReadOnly {
		pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := sqlDB.PingContext(pingCtx); err != nil {
			sqlDB.Close()
			return nil, fmt.Errorf("connect to postgres: %w", err)
		}
	}
	db := &DB{Gorm: g, SQL: sqlDB, URL: dsn, bell: newRelayBell(sqlDB), closed: make(chan struct{}), conf: cfg}
	db.access = newAccessWriter(db)
	return db, nil
}

// withConn runs f on a pooled connection's pgx.Conn: the hot queries (a command's read and
// write, the status lookups) skip database/sql's argument and row conversions; pgx's
// statement cache prepares each once per connection.
func (db *DB) withConn(ctx context.Context, f func(*pgx.Conn) error) error {
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error { return f(dc.(*stdlib.Conn).Conn()) })
}

// Done is closed when the handle is closed: background readers on connections of their own
// stop then.
func (db *DB) Done() <-chan struct{} { return db.closed }

// ConnConfig is a copy of the pool's connection configuration, for a connection of one's own.
func (db *DB) ConnConfig() *pgx.ConnConfig { return db.conf.Copy() }

// Close closes the pool.
func (db *DB) Close() error {
	db.bell.stop()
	close(db.closed)
	return db.SQL.Close()
}

// Ping checks that Postgres answers.
func (db *DB) Ping(ctx context.Context) error { return db.SQL.PingContext(ctx) }

func gooseProvider(db *sql.DB) (*goose.Provider, error) {
	// Out-of-order: a migration merged later with a lower number still applies on databases
	// that already have the higher ones.
	return goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithAllowOutofOrder(true))
}

// Migrate applies every pending migration and loads the shipped production calendar into the
// days an operator has not set. Safe to run at every start: with nothing pending it does one
// query per step.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	p, err := gooseProvider(db.SQL)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate up: %w", err)
	}
	var applied []string
	for _, r := range results {
		applied = append(applied, r.Source.Path)
	}
	rows, err := migrations.ShippedCalendar()
	if err != nil {
		return applied, err
	}
	if _, err := db.ImportCalendar(ctx, rows, false); err != nil {
		return applied, fmt.Errorf("load shipped calendar: %w", err)
	}
	return applied, nil
}

// MigrateDown rolls back the newest migration.
func (db *DB) MigrateDown(ctx context.Context) (string, error) {
	p, err := gooseProvider(db.SQL)
	if err != nil {
		return "", err
	}
	r, err := p.Down(ctx)
	if err != nil {
		return "", fmt.Errorf("migrate down: %w", err)
	}
	return r.Source.Path, nil
}

// MigrationStatus lists each migration and whether it is applied.
func (db *DB) MigrationStatus(ctx context.Context) ([]string, error) {
	p, err := gooseProvider(db.SQL)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range st {
		applied := "pending"
		if s.State == goose.StateApplied {
			applied = "applied " + s.AppliedAt.Format(time.RFC3339)
		}
		out = append(out, fmt.Sprintf("%s\t%s", s.Source.Path, applied))
	}
	return out, nil
}

// ImportCalendar stores exceptional days. With overwrite, rows replace what is there (an
// operator's import); without, only days not yet set are added (the shipped data never
// overrides an operator's correction).
func (db *DB) ImportCalendar(ctx context.Context, rows []migrations.CalendarRow, overwrite bool) (int, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	var days []calendarDay
	for i, r := range rows {
		d, err := domain.ParseDate(r.Date)
		if err != nil {
			return 0, fmt.Errorf("calendar line %d: %w", i+2, err)
		}
		if r.Kind != string(domain.Holiday) && r.Kind != string(domain.Workday) {
			return 0, fmt.Errorf("calendar line %d: kind must be holiday or workday, got %q", i+2, r.Kind)
		}
		weekend := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
		if (r.Kind == string(domain.Holiday)) == weekend {
			return 0, fmt.Errorf("calendar line %d: %s is a %s: a holiday must be a weekday and a workday a Saturday or Sunday", i+2, r.Date, d.Weekday())
		}
		days = append(days, calendarDay{Day: d.Time(), Kind: r.Kind, Note: r.Note})
	}
	conflict := "ON CONFLICT (day) DO NOTHING"
	if overwrite {
		conflict = "ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, note = excluded.note"
	}
	var n int64
	err := db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, d := range days {
			res := tx.Exec("INSERT INTO calendar_days (day, kind, note) VALUES (?, ?, ?) "+conflict, d.Day, d.Kind, d.Note)
			if res.Error != nil {
				return res.Error
			}
			n += res.RowsAffected
		}
		return nil
	})
	return int(n), err
}

type calendarDay struct {
	Day  time.Time
	Kind string
	Note string
}

// Calendars serves the production calendar from the database, reloading it at most once a
// minute so that an operator's import takes effect without a restart.
type Calendars struct {
	db     *DB
	ttl    time.Duration
	cached *domain.Calendar
	loaded time.Time
	mu     chan struct{}
}

// NewCalendars returns a calendar source over the database.
func NewCalendars(db *DB) *Calendars {
	return &Calendars{db: db, ttl: time.Minute, mu: make(chan struct{}, 1)}
}

// Calendar implements domain.CalendarSource.
func (c *Calendars) Calendar(ctx context.Context) (*domain.Calendar, error) {
	c.mu <- struct{}{}
	defer func() { <-c.mu }()
	if c.cached != nil && time.Since(c.loaded) < c.ttl {
		return c.cached, nil
	}
	var rows []calendarDay
	if err := c.db.Gorm.WithContext(ctx).Raw("SELECT day, kind, note FROM calendar_days ORDER BY day").Scan(&rows).Error; err != nil {
		if c.cached != nil {
			return c.cached, nil // a stale calendar beats refusing every command
		}
		return nil, fmt.Errorf("load calendar: %w", err)
	}
	days := make([]domain.CalendarDay, len(rows))
	for i, r := range rows {
		days[i] = domain.CalendarDay{Date: domain.NewDate(r.Day.Year(), r.Day.Month(), r.Day.Day()), Kind: domain.DayKind(r.Kind), Note: r.Note}
	}
	c.cached, c.loaded = domain.NewCalendar(days), time.Now()
	return c.cached, nil
}
