// Package walletsecurity is what a wallet user does to keep their account
// theirs: change the password (current password under the log-in's
// lock-out, then every other session revoked), reset a forgotten one by
// an e-mailed single-use link (only its SHA-256 is stored), and the
// notices, in the app and by e-mail, of every change to how they log in.
package walletsecurity

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/password"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/wallet"
)

// Notification types of changes to how a user logs in.
const (
	NotePasskeyAdded    = "passkey.added"
	NotePasskeyRemoved  = "passkey.removed"
	NotePasswordChanged = "password.changed"
)

// Service changes and resets wallet passwords and tells users of changes.
type Service struct {
	db        *postgres.DB
	wallet    *wallet.Service
	passwords *password.Hasher
	keys      *seal.Keyring
	now       func() time.Time
}

// New returns a Service on db whose users are wallet's, hashing new
// passwords with passwords and sealing reset e-mails under keys.
func New(db *postgres.DB, w *wallet.Service, passwords *password.Hasher, keys *seal.Keyring, now func() time.Time) *Service {
	return &Service{db: db, wallet: w, passwords: passwords, keys: keys, now: now}
}

// NotifyPasskey tells u, in the app and by e-mail, in tx, that the
// passkey named name was added (typ NotePasskeyAdded) or removed
// (NotePasskeyRemoved) at now, so a change the user did not make is
// noticed.
func NotifyPasskey(ctx context.Context, tx pgx.Tx, u *wallet.User, typ, name string, now time.Time) error {
	now = now.UTC()
	verb, subject := "added to", "Paylink wallet: a passkey was added to your account"
	if typ == NotePasskeyRemoved {
		verb, subject = "removed from", "Paylink wallet: a passkey was removed from your account"
	}
	message := fmt.Sprintf("A passkey named %s was %s your Paylink wallet.", strconv.Quote(name), verb)
	if err := note(ctx, tx, u.ID, typ, message, now); err != nil {
		return err
	}
	return notify.Queue(ctx, tx, notify.Email{To: u.Email, Subject: subject,
		Text: message + " (" + now.Format("2 January 2006, 15:04 MST") + ")\n\n" +
			"If this was not you, someone knows your password: log in and remove any passkey you do not recognise under Passkeys.\n"}, now)
}

// note adds an in-app notification of type typ for userID in tx.
func note(ctx context.Context, tx pgx.Tx, userID, typ, message string, now time.Time) error {
	if _, err := tx.Exec(ctx, insertNotification, id.NewAt("ntf", now), userID, typ, message, now); err != nil {
		return fmt.Errorf("insert notification: %w", err)
	}
	return nil
}
