package merchant

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/postgres"
)

// PasswordHash returns the id and the stored password hash (Argon2id, see
// package password) of the merchant with email, for the dashboard's
// log-in. It returns ErrNotFound.
func PasswordHash(ctx context.Context, db postgres.DBTX, email string) (id, hash string, err error) {
	err = db.QueryRow(ctx, selectPasswordHash, email).Scan(&id, &hash)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", "", ErrNotFound
	case err != nil:
		return "", "", fmt.Errorf("read merchant password: %w", err)
	}
	return id, hash, nil
}

// LoginEmail returns the log-in e-mail of merchantID, lower-cased as the
// log-in's lock-out subject names it. It returns ErrNotFound.
func LoginEmail(ctx context.Context, db postgres.DBTX, merchantID string) (string, error) {
	var email string
	err := db.QueryRow(ctx, selectLoginEmail, merchantID).Scan(&email)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", ErrNotFound
	case err != nil:
		return "", fmt.Errorf("read merchant e-mail: %w", err)
	}
	return email, nil
}

// SetPasswordHash replaces merchantID's password hash in tx (hash it with
// the process's password.Hasher first). It returns ErrNotFound.
func SetPasswordHash(ctx context.Context, tx pgx.Tx, merchantID, hash string) error {
	tag, err := tx.Exec(ctx, setPasswordHash, merchantID, hash)
	if err != nil {
		return fmt.Errorf("set merchant password: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
