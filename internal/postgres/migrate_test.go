package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
)

// schemaState reads golang-migrate's record and whether table exists.
func schemaState(t *testing.T, url, table string) (version int64, dirty bool, rows int, exists bool) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, `SELECT count(*), coalesce(max(version), -1), coalesce(bool_or(dirty), false) FROM schema_migrations`).
		Scan(&rows, &version, &dirty); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	return version, dirty, rows, exists
}

func sqlFiles(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return fsys
}

// TestRefusedMigrationChangesNothing: a migration PostgreSQL refuses half
// way leaves neither its first statements nor golang-migrate's "dirty" mark,
// so the next run, once the file is fixed, applies it.
func TestRefusedMigrationChangesNothing(t *testing.T) {
	t.Parallel()
	url := pgtest.NewEmpty(t)
	broken := sqlFiles(map[string]string{
		"1_a.up.sql": "CREATE TABLE a (x int);",
		"2_b.up.sql": "CREATE TABLE b (x int);\nINSERT INTO b VALUES (1 / 0);",
	})
	_, err := postgres.MigrateFS(url, broken)
	if err == nil || !strings.Contains(err.Error(), "migration 2 failed and changed nothing; the schema stays at version 1") ||
		!strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("migrate with a refused migration: %v", err)
	}
	if v, dirty, _, exists := schemaState(t, url, "b"); v != 1 || dirty || exists {
		t.Fatalf("after the refused migration: version %d, dirty %t, table b exists %t; want 1, clean, no table", v, dirty, exists)
	}

	fixed := sqlFiles(map[string]string{
		"1_a.up.sql": "CREATE TABLE a (x int);",
		"2_b.up.sql": "CREATE TABLE b (x int);\nINSERT INTO b VALUES (1);",
	})
	if v, err := postgres.MigrateFS(url, fixed); err != nil || v != 2 {
		t.Fatalf("migrate once fixed: version %d, %v; want 2", v, err)
	}
	if v, dirty, _, exists := schemaState(t, url, "b"); v != 2 || dirty || !exists {
		t.Fatalf("after the fix: version %d, dirty %t, table b exists %t", v, dirty, exists)
	}
}

// TestRefusedFirstMigrationLeavesNoVersion: when the very first migration
// is refused, the schema is recorded at no version at all.
func TestRefusedFirstMigrationLeavesNoVersion(t *testing.T) {
	t.Parallel()
	url := pgtest.NewEmpty(t)
	_, err := postgres.MigrateFS(url, sqlFiles(map[string]string{"1_a.up.sql": "CREATE TABLE a (x int);\nSELECT 1 / 0;"}))
	if err == nil || !strings.Contains(err.Error(), "the schema stays at version 0") {
		t.Fatalf("migrate: %v", err)
	}
	if _, _, rows, exists := schemaState(t, url, "a"); rows != 0 || exists {
		t.Fatalf("after the refused first migration: %d version rows, table a exists %t; want none", rows, exists)
	}
}

// TestDirtyMarkWaitsForForce: a process stopped while it applied a
// migration leaves the mark; Migrate then refuses, naming the way out,
// until Force records a version, and Force refuses a version this build
// does not have.
func TestDirtyMarkWaitsForForce(t *testing.T) {
	t.Parallel()
	url := pgtest.NewEmpty(t)
	files := sqlFiles(map[string]string{
		"1_a.up.sql": "CREATE TABLE a (x int);",
		"2_b.up.sql": "CREATE TABLE b (x int);",
	})
	if _, err := postgres.MigrateFS(url, sqlFiles(map[string]string{"1_a.up.sql": "CREATE TABLE a (x int);"})); err != nil {
		t.Fatal(err)
	}
	// What golang-migrate writes before it runs migration 2, had the
	// process been killed then.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE schema_migrations SET version = 2, dirty = true`); err != nil {
		t.Fatal(err)
	}

	_, err = postgres.MigrateFS(url, files)
	if !errors.Is(err, postgres.ErrDirty) || !strings.Contains(err.Error(), "paylink migrate -force 2") {
		t.Fatalf("migrate over a dirty mark: %v; want ErrDirty naming -force 2", err)
	}
	if _, _, _, exists := schemaState(t, url, "b"); exists {
		t.Fatal("migration 2 ran over the dirty mark")
	}
	if err := postgres.ForceFS(url, files, 9); err == nil || !strings.Contains(err.Error(), "no migration 9") {
		t.Fatalf("force to a version this build lacks: %v", err)
	}
	// Table b is not there, so migration 2 did not commit: back to 1.
	if err := postgres.ForceFS(url, files, 1); err != nil {
		t.Fatal(err)
	}
	if v, err := postgres.MigrateFS(url, files); err != nil || v != 2 {
		t.Fatalf("migrate after -force 1: version %d, %v; want 2", v, err)
	}
	if v, dirty, _, exists := schemaState(t, url, "b"); v != 2 || dirty || !exists {
		t.Fatalf("after the recovery: version %d, dirty %t, table b exists %t", v, dirty, exists)
	}
}
