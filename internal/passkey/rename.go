package passkey

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

const renamePasskey = `
UPDATE passkeys SET name = $3 WHERE user_id = $1 AND id = $2
RETURNING id, user_id, name, created_at, last_used_at`

// Rename gives userID's passkey id the name name (trimmed, 1 to 100
// characters without control characters) and returns it. It returns
// ErrNameInvalid or ErrNotFound (also for another user's passkey).
// Renaming moves no security boundary, so it needs no step-up.
func (s *Service) Rename(ctx context.Context, tx pgx.Tx, userID, id, name string) (*Passkey, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return nil, ErrNameInvalid
	}
	var p Passkey
	err := tx.QueryRow(ctx, renamePasskey, userID, id, name).Scan(&p.ID, &p.UserID, &p.Name, &p.CreatedAt, &p.LastUsedAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("rename passkey: %w", err)
	}
	return &p, nil
}
