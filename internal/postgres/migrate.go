package postgres

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // registers the pgx5:// driver
	"github.com/golang-migrate/migrate/v4/source"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/paylink/paylink/migrations"
)

// Migrate applies every embedded migration not yet applied to the database
// at url. golang-migrate holds a PostgreSQL advisory lock while it works, so
// several replicas may call Migrate at once: one applies, the others wait
// and find nothing left to do. It returns the schema version reached.
//
// Each migration file runs as one statement string, which PostgreSQL
// commits or rolls back whole. So when PostgreSQL refuses a migration,
// nothing of it stays, and Migrate sets the version back to the one before
// it instead of leaving golang-migrate's "dirty" mark: fix the cause and run
// it again. Only a process stopped while a migration ran leaves the mark;
// then Migrate refuses until an operator looks and runs Force.
func Migrate(url string) (uint, error) {
	return migrateFS(url, migrations.FS)
}

// Force records version as the schema's clean version without running any
// migration: the way out of a "dirty" mark left by a process stopped while
// it applied a migration (see Migrate), once an operator has looked whether
// that migration's changes are in the database. A version of 0 means none
// applied.
func Force(url string, version uint) error {
	return forceFS(url, migrations.FS, version)
}

func forceFS(url string, fsys fs.FS, version uint) error {
	m, src, err := open(url, fsys)
	if err != nil {
		return err
	}
	defer m.Close()
	if version != 0 {
		r, _, err := src.ReadUp(version)
		if err != nil {
			return fmt.Errorf("no migration %d in this build", version)
		}
		r.Close()
	}
	if err := m.Force(forceVersion(version)); err != nil {
		return fmt.Errorf("force schema version %d: %w", version, err)
	}
	return nil
}

// ErrDirty is the error of a schema left "dirty" by a process stopped while
// it applied a migration.
var ErrDirty = errors.New("a process was stopped while it applied the migration")

func migrateFS(url string, fsys fs.FS) (uint, error) {
	m, src, err := open(url, fsys)
	if err != nil {
		return 0, err
	}
	defer m.Close()
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		var dirty migrate.ErrDirty
		if errors.As(err, &dirty) {
			return uint(dirty.Version), fmt.Errorf("schema version %d is dirty: %w; look whether its changes are in the database, then run `paylink migrate -force %d` if they are (or `-force` with the version before it if they are not), and migrate again",
				dirty.Version, ErrDirty, dirty.Version)
		}
		return 0, rollBack(m, src, err)
	}
	v, dirty, err := m.Version()
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if dirty {
		return v, fmt.Errorf("schema version %d is dirty: %w", v, ErrDirty)
	}
	return v, nil
}

// rollBack answers the failure err of Up. When PostgreSQL refused the
// migration's statements, their transaction rolled back and the schema is
// still at the version before it, so rollBack records that version rather
// than the dirty mark. Any other failure (a lost connection may have lost
// the answer to a commit) keeps the mark for an operator.
func rollBack(m *migrate.Migrate, src source.Driver, err error) error {
	var dbErr database.Error
	var pgErr *pgconn.PgError
	if !errors.As(err, &dbErr) || !errors.As(dbErr.OrigErr, &pgErr) {
		return fmt.Errorf("apply migrations: %w", err)
	}
	v, dirty, verr := m.Version()
	if verr != nil || !dirty {
		return fmt.Errorf("apply migrations: %w", err)
	}
	prev, perr := src.Prev(v)
	switch {
	case errors.Is(perr, os.ErrNotExist):
		prev = 0
	case perr != nil:
		return fmt.Errorf("apply migrations: %w", err)
	}
	if ferr := m.Force(forceVersion(prev)); ferr != nil {
		return fmt.Errorf("apply migration %d: %w (and set the version back to %d: %v)", v, err, prev, ferr)
	}
	return fmt.Errorf("migration %d failed and changed nothing; the schema stays at version %d: %w", v, prev, err)
}

// forceVersion is golang-migrate's number for version, -1 for none.
func forceVersion(version uint) int {
	if version == 0 {
		return database.NilVersion
	}
	return int(version)
}

func open(url string, fsys fs.FS) (*migrate.Migrate, source.Driver, error) {
	src, err := iofs.New(fsys, ".")
	if err != nil {
		return nil, nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	m, err := migrate.NewWithSourceInstance("iofs", src, driverURL(url))
	if err != nil {
		return nil, nil, fmt.Errorf("open migrations: %w", err)
	}
	return m, src, nil
}

// driverURL turns a postgres:// URL into golang-migrate's pgx5:// form.
func driverURL(url string) string {
	for _, p := range []string{"postgres://", "postgresql://"} {
		if strings.HasPrefix(url, p) {
			return "pgx5://" + strings.TrimPrefix(url, p)
		}
	}
	return url
}
