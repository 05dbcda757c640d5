// Package pgtest gives each test a freshly migrated PostgreSQL database of
// its own, copied from a template that is migrated once per schema version.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/migrations"
)

// EnvURL names the environment variable holding an admin URL of the test
// PostgreSQL server; `make test` sets it.
const EnvURL = "PAYLINK_TEST_DATABASE_URL"

// New returns a freshly migrated, empty database that is dropped when t
// ends. Without PAYLINK_TEST_DATABASE_URL it fails the test.
func New(t testing.TB) *postgres.DB {
	t.Helper()
	db, _ := NewWithURL(t)
	return db
}

// NewWithURL is New that also returns the database's URL, for code under
// test that opens its own connections (migrations, the paylink binary).
func NewWithURL(t testing.TB) (*postgres.DB, string) {
	t.Helper()
	ctx := context.Background()
	adminURL := AdminURL(t)
	tpl := ensureTemplate(t, adminURL)
	name := "t_" + randHex(8)
	// FILE_COPY copies the template's files instead of logging every page
	// (WAL_LOG): 0.07 s less a test on make test's server, whose fsync is
	// off, so the two checkpoints it asks for cost little.
	exec(t, adminURL, "CREATE DATABASE "+name+" TEMPLATE "+tpl+" STRATEGY FILE_COPY")
	dbURL := withDBName(t, adminURL, name)
	db, err := postgres.Open(ctx, dbURL, 16)
	if err != nil {
		t.Fatalf("pgtest: open %s: %v", name, err)
	}
	t.Cleanup(func() {
		db.Close()
		exec(t, adminURL, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return db, dbURL
}

// NewEmpty returns the URL of an empty, unmigrated database dropped when t
// ends, for tests of the migrations themselves.
func NewEmpty(t testing.TB) string {
	t.Helper()
	adminURL := AdminURL(t)
	name := "t_" + randHex(8)
	exec(t, adminURL, "CREATE DATABASE "+name)
	t.Cleanup(func() { exec(t, adminURL, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	return withDBName(t, adminURL, name)
}

// AdminURL returns PAYLINK_TEST_DATABASE_URL or fails the test.
func AdminURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		t.Fatalf("pgtest: %s is not set; run the tests with `make test`", EnvURL)
	}
	return u
}

// ensureTemplate creates paylink_tpl_<hash of the migrations> once; the
// advisory lock makes concurrent test binaries wait for the first.
func ensureTemplate(t testing.TB, adminURL string) string {
	t.Helper()
	name := "paylink_tpl_" + migrationsHash(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(7301)"); err != nil {
		t.Fatalf("pgtest: lock: %v", err)
	}
	defer conn.Exec(ctx, "SELECT pg_advisory_unlock(7301)") //nolint:errcheck // released on close anyway
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if exists {
		return name
	}
	building := name + "_build"
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if _, err := postgres.Migrate(withDBName(t, adminURL, building)); err != nil {
		t.Fatalf("pgtest: migrate template: %v", err)
	}
	// Rename only once fully migrated, so a half-built template is never used.
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return name
}

func migrationsHash(t testing.TB) string {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		t.Fatalf("pgtest: hash migrations: %v", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func exec(t testing.TB, dbURL, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}

func withDBName(t testing.TB, dbURL, name string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("pgtest: parse %s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
