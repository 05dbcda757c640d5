package postgres

import (
	"errors"
	"fmt"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // registers the pgx5:// driver
	"github.com/golang-migrate/migrate/v4/source/iofs"

	"github.com/paylink/paylink/migrations"
)

// Migrate applies every embedded migration not yet applied to the database
// at url. golang-migrate holds a PostgreSQL advisory lock while it works, so
// several replicas may call Migrate at once: one applies, the others wait
// and find nothing left to do. It returns the schema version reached.
func Migrate(url string) (uint, error) {
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return 0, fmt.Errorf("read embedded migrations: %w", err)
	}
	m, err := migrate.NewWithSourceInstance("iofs", src, driverURL(url))
	if err != nil {
		return 0, fmt.Errorf("open migrations: %w", err)
	}
	defer m.Close()
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return 0, fmt.Errorf("apply migrations: %w", err)
	}
	v, dirty, err := m.Version()
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if dirty {
		return v, fmt.Errorf("schema version %d is dirty: a migration failed half-way; fix it by hand", v)
	}
	return v, nil
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
