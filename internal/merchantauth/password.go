package merchantauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/notify"
)

// ResetTTL is how long a password reset link works.
const ResetTTL = time.Hour

// Errors of password changes and resets.
var (
	ErrCurrentPasswordWrong = ErrInvalidCredentials.WithParam("current_password").
				WithMessage("That is not your current password. Nothing was changed.")
	ErrResetLinkInvalid = &apperr.Error{Kind: apperr.Gone, Code: "reset_link_invalid",
		Message: "This password reset link has expired, was already used, or is not a Paylink link. Nothing was changed; ask for a new link."}
)

// ChangePassword replaces the password of the logged-in merchant of
// session, whose log-in address is email, after checking current as a
// log-in does (counted in the merchant's lock-out; a wrong one is
// ErrCurrentPasswordWrong and changes nothing). In one transaction it
// stores next's Argon2id hash, ends every other session of the merchant,
// voids its outstanding reset links, and queues the e-mail saying the
// password was changed. A next shorter than 10 characters is
// merchant.ErrPasswordTooShort, checked first.
func (s *Service) ChangePassword(ctx context.Context, session *Session, email, current, next string) error {
	if err := merchant.ValidatePassword(next); err != nil {
		return err
	}
	if _, err := s.CheckPassword(ctx, email, current); err != nil {
		if errors.Is(err, ErrInvalidCredentials) {
			return ErrCurrentPasswordWrong
		}
		return err
	}
	hash, err := s.cfg.Passwords.Hash(ctx, next)
	if err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx pgx.Tx) error {
		return s.replacePassword(ctx, tx, session.MerchantID, session.ID, hash, "in the dashboard's settings")
	})
}

// RequestReset e-mails the merchant whose log-in address is email a link
// to resetPage carrying a new single-use token, valid ResetTTL; only the
// token's SHA-256 is stored, and the e-mail is queued sealed. It answers
// the same (nil) whether or not such a merchant exists, so the answer tells no one which addresses
// have an account; an address that is not one at all is
// merchant.ErrEmailInvalid.
func (s *Service) RequestReset(ctx context.Context, email, resetPage string) error {
	email, err := merchant.NormalizeEmail(email)
	if err != nil {
		return merchant.ErrEmailInvalid.WithParam("email")
	}
	mid, _, err := merchant.PasswordHash(ctx, s.db.Pool, email)
	switch {
	case errors.Is(err, merchant.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	token := newSecret()
	now := s.now().UTC()
	return s.db.WithTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, insertReset, tokenHash(token), mid, now, now.Add(ResetTTL)); err != nil {
			return fmt.Errorf("insert password reset: %w", err)
		}
		return notify.QueueSealed(ctx, tx, s.cfg.Keys, notify.Email{To: email, Subject: "Reset your Paylink dashboard password",
			Text: "Someone, hopefully you, asked to reset the password of the Paylink dashboard account " + email + ".\n\n" +
				"To choose a new password, open this link within 1 hour (it works once):\n" + resetPage + "?token=" + token + "\n\n" +
				"Resetting it logs out every browser logged in to your dashboard. Your passkeys stay as they are.\n\n" +
				"If you did not ask for this, ignore this e-mail: your password stays as it is.\n"}, now)
	})
}

// CheckReset reports whether token is an outstanding reset link: unused
// and not expired. It returns ErrResetLinkInvalid otherwise.
func (s *Service) CheckReset(ctx context.Context, token string) error {
	var ok bool
	if err := s.db.Pool.QueryRow(ctx, checkReset, tokenHash(token), s.now().UTC()).Scan(&ok); err != nil {
		return fmt.Errorf("read password reset: %w", err)
	}
	if !ok {
		return ErrResetLinkInvalid
	}
	return nil
}

// Reset sets the password of the merchant whose reset link token is and
// returns its id. In one transaction it uses the token up, stores next's
// Argon2id hash, ends every session of the merchant, voids its other
// reset links, and queues the e-mail saying the password was changed. An
// expired, used or unknown token is ErrResetLinkInvalid; a next shorter
// than 10 characters merchant.ErrPasswordTooShort; either changes
// nothing. The merchant's passkeys stay as they are.
func (s *Service) Reset(ctx context.Context, token, next string) (string, error) {
	if err := s.CheckReset(ctx, token); err != nil {
		return "", err
	}
	if err := merchant.ValidatePassword(next); err != nil {
		return "", err
	}
	hash, err := s.cfg.Passwords.Hash(ctx, next)
	if err != nil {
		return "", err
	}
	var mid string
	err = s.db.WithTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, useReset, tokenHash(token), s.now().UTC()).Scan(&mid)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return ErrResetLinkInvalid // used up by a concurrent request, or expired since
		case err != nil:
			return fmt.Errorf("use password reset: %w", err)
		}
		return s.replacePassword(ctx, tx, mid, "", hash, "with a reset link e-mailed to this address")
	})
	if err != nil {
		return "", err
	}
	return mid, nil
}

// replacePassword stores hash as merchantID's password in tx, ends its
// sessions but keep (every one when keep is ""), voids its outstanding
// reset links, and queues the e-mail saying the password was changed
// how.
func (s *Service) replacePassword(ctx context.Context, tx pgx.Tx, merchantID, keep, hash, how string) error {
	now := s.now().UTC()
	if err := merchant.SetPasswordHash(ctx, tx, merchantID, hash); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, revokeOtherSessions, merchantID, keep, now); err != nil {
		return fmt.Errorf("revoke merchant sessions: %w", err)
	}
	if _, err := tx.Exec(ctx, voidResets, merchantID, now); err != nil {
		return fmt.Errorf("void password resets: %w", err)
	}
	email, err := merchant.LoginEmail(ctx, tx, merchantID)
	if err != nil {
		return err
	}
	return notify.Queue(ctx, tx, notify.Email{To: email, Subject: "Your Paylink password was changed",
		Text: "The password of your Paylink dashboard account " + email + " was changed " + how + " (" +
			now.Format("2 January 2006, 15:04 MST") + "). Every other browser logged in to your dashboard was logged out.\n\n" +
			"If this was not you: choose a new password with \"Forgot your password?\" on the dashboard's log-in page, " +
			"then look under Settings for passkeys and sessions you do not recognise.\n"}, now)
}

// newSecret returns 32 random bytes in base64url: a session's secret or a
// reset token, of which only tokenHash is stored.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenHash is what is stored of a session's secret or a reset token.
func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

const (
	insertReset = `
INSERT INTO merchant_password_resets (token_hash, merchant_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`

	checkReset = `
SELECT EXISTS (SELECT 1 FROM merchant_password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2)`

	useReset = `
UPDATE merchant_password_resets SET used_at = $2
WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
RETURNING merchant_id`

	voidResets = `
UPDATE merchant_password_resets SET used_at = $2 WHERE merchant_id = $1 AND used_at IS NULL`

	revokeOtherSessions = `
UPDATE merchant_sessions SET revoked_at = $3 WHERE merchant_id = $1 AND id <> $2 AND revoked_at IS NULL`
)
