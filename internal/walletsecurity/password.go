package walletsecurity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/lockout"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/wallet"
)

// Errors about changing and resetting a password.
var (
	ErrCurrentPasswordWrong = &apperr.Error{Kind: apperr.Invalid, Code: "current_password_incorrect", Param: "current_password",
		Message: "The current password is wrong; nothing was changed."}
	ErrResetTokenInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "reset_token_invalid", Param: "token",
		Message: "This password reset link is not valid. Ask for a new one from the log-in page."}
	ErrResetTokenExpired = &apperr.Error{Kind: apperr.Gone, Code: "reset_token_expired", Param: "token",
		Message: "This password reset link has expired (a link works for an hour). Ask for a new one from the log-in page."}
	ErrResetTokenUsed = &apperr.Error{Kind: apperr.Gone, Code: "reset_token_used", Param: "token",
		Message: "This password reset link was already used or replaced. Ask for a new one from the log-in page if you need to."}
)

// Reset links: how long one works, and how many a user is sent per
// ResetTTL (more requests are answered alike and send nothing).
const (
	ResetTTL       = time.Hour
	maxResetEmails = 3
)

// PasswordChange is a logged-in user's change of their own password.
type PasswordChange struct {
	Session      *wallet.Session
	Current, New string
	// Confirm runs in the change's transaction before anything is
	// written: the passkey step-up of a user who has passkeys.
	Confirm func(ctx context.Context, tx pgx.Tx) error
	// ForgotURL is where the e-mail sends a user who did not make the
	// change.
	ForgotURL string
}

// ChangePassword checks pc.Current under the log-in's lock-out (a wrong
// one is ErrCurrentPasswordWrong and counts as a failed log-in), then, in
// one transaction after pc.Confirm, stores the Argon2id hash of pc.New,
// revokes every other session of the user (the current one stays) and
// any outstanding reset link, and tells the user in the app and by
// e-mail. pc.New must pass wallet.ValidatePassword.
func (s *Service) ChangePassword(ctx context.Context, pc PasswordChange) error {
	u := &pc.Session.User
	switch checked, err := s.wallet.CheckPassword(ctx, u.Email, pc.Current); {
	case errors.Is(err, wallet.ErrInvalidCredentials):
		return ErrCurrentPasswordWrong
	case err != nil:
		return err
	case checked.ID != u.ID: // an e-mail names one user for good
		return ErrCurrentPasswordWrong
	}
	hash, err := s.passwords.Hash(ctx, pc.New)
	if err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx pgx.Tx) error {
		if pc.Confirm != nil {
			if err := pc.Confirm(ctx, tx); err != nil {
				return err
			}
		}
		return s.setPassword(ctx, tx, u, hash, pc.Session.ID, "from your wallet's settings", pc.ForgotURL)
	})
}

// setPassword stores hash as u's password in tx, revokes u's sessions but
// keep ("" for all) and every outstanding reset link, and tells u; how
// says how the password was changed.
func (s *Service) setPassword(ctx context.Context, tx pgx.Tx, u *wallet.User, hash, keep, how, forgotURL string) error {
	now := s.now().UTC()
	if _, err := tx.Exec(ctx, updatePassword, u.ID, hash); err != nil {
		return fmt.Errorf("update password: %w", err)
	}
	if _, err := tx.Exec(ctx, voidResets, u.ID, now); err != nil {
		return fmt.Errorf("void password resets: %w", err)
	}
	if err := s.wallet.RevokeSessions(ctx, tx, u.ID, keep); err != nil {
		return err
	}
	if err := note(ctx, tx, u.ID, NotePasswordChanged, "Your password was changed "+how+". Every other device was logged out.", now); err != nil {
		return err
	}
	return notify.Queue(ctx, tx, notify.WalletPasswordChanged(u.Email, u.FirstName, now, how, forgotURL), now)
}

// RequestPasswordReset e-mails the wallet user with email, if there is
// one, a link to set a new password: linkFor(token) for a new random
// token, of which only the SHA-256 is stored, working once within
// ResetTTL. Whether or not the address has a wallet, it returns nil (or
// ErrEmailInvalid for an address nobody can have), so the answer tells
// nobody which addresses have one; past maxResetEmails links per ResetTTL
// for one user, it sends nothing more.
func (s *Service) RequestPasswordReset(ctx context.Context, email string, linkFor func(token string) string) error {
	email, err := merchant.NormalizeEmail(email)
	if err != nil {
		return wallet.ErrEmailInvalid
	}
	return s.db.WithTx(ctx, func(tx pgx.Tx) error {
		u, err := s.wallet.UserByEmail(ctx, tx, email)
		if errors.Is(err, wallet.ErrUserNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		// One request of a user at a time, so the count below holds.
		if _, err := tx.Exec(ctx, lockUser, u.ID); err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		now := s.now().UTC()
		var recent int
		if err := tx.QueryRow(ctx, countRecentResets, u.ID, now.Add(-ResetTTL)).Scan(&recent); err != nil {
			return fmt.Errorf("count password resets: %w", err)
		}
		if recent >= maxResetEmails {
			return nil
		}
		raw := make([]byte, 32)
		_, _ = rand.Read(raw)
		token := base64.RawURLEncoding.EncodeToString(raw)
		digest := sha256.Sum256([]byte(token))
		exp := now.Add(ResetTTL)
		if _, err := tx.Exec(ctx, insertReset, id.NewAt("pwr", now), u.ID, digest[:], now, exp); err != nil {
			return fmt.Errorf("insert password reset: %w", err)
		}
		return notify.QueueSealed(ctx, tx, s.keys, notify.WalletPasswordReset(u.Email, u.FirstName, linkFor(token), exp), now)
	})
}

// ResetPassword sets newPassword (see wallet.ValidatePassword) as the
// password of the user whose reset link carries token, revokes all that
// user's sessions and every other outstanding link, lifts a log-in
// lock-out of the address, and tells the user.
// An unknown token is ErrResetTokenInvalid, a used or replaced one
// ErrResetTokenUsed and one past its hour ErrResetTokenExpired; then
// nothing changes.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword, forgotURL string) error {
	digest := sha256.Sum256([]byte(token))
	if _, err := s.resetUser(ctx, s.db.Pool.QueryRow(ctx, selectReset, digest[:])); err != nil {
		return err // before the slow hash: a dead link is answered at once
	}
	if err := wallet.ValidatePassword(newPassword); err != nil {
		return err
	}
	hash, err := s.passwords.Hash(ctx, newPassword)
	if err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx pgx.Tx) error {
		userID, err := s.resetUser(ctx, tx.QueryRow(ctx, selectReset+` FOR UPDATE`, digest[:]))
		if err != nil {
			return err
		}
		u, err := s.wallet.User(ctx, tx, userID)
		if err != nil {
			return err
		}
		// The link proves the address theirs: guesses at the password
		// must not keep them out (the log-in's subject, see wallet).
		if err := lockout.Clear(ctx, tx, "wallet:"+strings.ToLower(u.Email)); err != nil {
			return err
		}
		return s.setPassword(ctx, tx, u, hash, "", "with a reset link sent to this address", forgotURL)
	})
}

// resetUser reads a reset link's row and returns its user while it works.
func (s *Service) resetUser(ctx context.Context, row pgx.Row) (string, error) {
	var (
		userID  string
		expires time.Time
		used    *time.Time
	)
	err := row.Scan(&userID, &expires, &used)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", ErrResetTokenInvalid
	case err != nil:
		return "", fmt.Errorf("read password reset: %w", err)
	case used != nil:
		return "", ErrResetTokenUsed
	case !s.now().Before(expires):
		return "", ErrResetTokenExpired
	}
	return userID, nil
}

// DeleteExpiredResets removes reset links that expired before cutoff
// (they can no longer be used) and returns how many, for the periodic
// clean-up; cutoff must lie at least ResetTTL back, as the limit of
// links per user counts the last ResetTTL's.
func DeleteExpiredResets(ctx context.Context, db postgres.DBTX, cutoff time.Time) (int64, error) {
	tag, err := db.Exec(ctx, deleteExpiredResets, cutoff)
	if err != nil {
		return 0, fmt.Errorf("delete expired password resets: %w", err)
	}
	return tag.RowsAffected(), nil
}
