// Package dbtest gives tests their own real PostgreSQL database and Redis database, created
// fresh and removed afterwards, so packages and tests run in parallel and leave nothing behind.
//
// TEST_DATABASE_URL names the server (default postgres://postgres@127.0.0.1:5432/postgres) and
// TEST_REDIS_URL the Redis server (default redis://127.0.0.1:6379).
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"carepath/migrations"
	"carepath/store"
)

func serverURL() string {
	if v := os.Getenv("TEST_DATABASE_URL"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

func withDB(name string) string {
	u, err := url.Parse(serverURL())
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// templateName is derived from the migrations' contents, so a changed migration gets a new
// template and an old one is never reused by mistake.
var templateName = sync.OnceValue(func() string {
	h := sha256.New()
	var names []string
	_ = fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	sort.Strings(names)
	for _, n := range names {
		b, _ := migrations.FS.ReadFile(n)
		h.Write([]byte(n))
		h.Write(b)
	}
	return "carepath_tpl_" + hex.EncodeToString(h.Sum(nil))[:16]
})

// ensureTemplate creates the migrated template database once per machine (guarded by an
// advisory lock, since test packages run in parallel processes).
func ensureTemplate(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, serverURL())
	if err != nil {
		return fmt.Errorf("connect to test postgres (%s): %w", serverURL(), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(77001)"); err != nil {
		return err
	}
	defer conn.Exec(ctx, "SELECT pg_advisory_unlock(77001)") //nolint:errcheck
	name := templateName()
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return err
	}
	db, err := store.Open(ctx, withDB(name), store.Options{MaxOpenConns: 2})
	if err != nil {
		return err
	}
	_, err = db.Migrate(ctx)
	db.Close()
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "ALTER DATABASE "+name+" WITH IS_TEMPLATE true")
	return err
}

// URL creates a fresh, migrated database for the test and returns its URL; the database is
// dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ensureTemplate(ctx); err != nil {
		t.Fatalf("test database template: %v", err)
	}
	name := "carepath_test_" + randomHex(6)
	conn, err := pgx.Connect(ctx, serverURL())
	if err != nil {
		t.Fatalf("connect to test postgres: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, templateName())); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, serverURL())
		if err != nil {
			t.Logf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	return withDB(name)
}

// Open returns a store handle on a fresh database (see URL); it is closed when the test ends.
func Open(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), URL(t), store.Options{MaxOpenConns: 60})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// RedisURL reserves one of Redis' numbered databases (1..15) for the test, flushes it, and
// releases it when the test ends. Reservations are keys in database 0 with a time limit, so a
// crashed test cannot hold one forever.
func RedisURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TEST_REDIS_URL")
	if base == "" {
		base = "redis://127.0.0.1:6379"
	}
	base = strings.TrimRight(base, "/")
	ctx := context.Background()
	ctl := redis.NewClient(mustRedisOpts(t, base+"/0"))
	defer ctl.Close()
	token := randomHex(8)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		for n := 1; n <= 15; n++ {
			key := fmt.Sprintf("carepath:test:redisdb:%d", n)
			ok, err := ctl.SetNX(ctx, key, token, 10*time.Minute).Result()
			if err != nil {
				t.Fatalf("reserve a redis database: %v", err)
			}
			if !ok {
				continue
			}
			u := fmt.Sprintf("%s/%d", base, n)
			c := redis.NewClient(mustRedisOpts(t, u))
			if err := c.FlushDB(ctx).Err(); err != nil {
				t.Fatalf("flush redis db %d: %v", n, err)
			}
			c.Close()
			t.Cleanup(func() {
				c := redis.NewClient(mustRedisOpts(t, u))
				c.FlushDB(context.Background())
				c.Close()
				ctl := redis.NewClient(mustRedisOpts(t, base+"/0"))
				if v, _ := ctl.Get(context.Background(), key).Result(); v == token {
					ctl.Del(context.Background(), key)
				}
				ctl.Close()
			})
			return u
		}
		if time.Now().After(deadline) {
			t.Fatalf("no free redis database for the test after 2 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func mustRedisOpts(t testing.TB, u string) *redis.Options {
	o, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("redis url %s: %v", u, err)
	}
	return o
}
