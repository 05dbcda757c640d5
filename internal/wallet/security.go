package wallet

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/notify"
)

// Notification types of changes to how a user logs in.
const (
	NotePasskeyAdded   = "passkey.added"
	NotePasskeyRemoved = "passkey.removed"
)

// NotifyPasskey tells u, in the app and by e-mail, in tx, that the
// passkey named name was added (typ NotePasskeyAdded) or removed
// (NotePasskeyRemoved), so a change the user did not make is noticed.
func (s *Service) NotifyPasskey(ctx context.Context, tx pgx.Tx, u *User, typ, name string) error {
	now := s.now().UTC()
	verb, subject := "added to", "Paylink wallet: a passkey was added to your account"
	if typ == NotePasskeyRemoved {
		verb, subject = "removed from", "Paylink wallet: a passkey was removed from your account"
	}
	message := fmt.Sprintf("A passkey named %s was %s your Paylink wallet.", strconv.Quote(name), verb)
	if _, err := tx.Exec(ctx, insertSecurityNotification, id.NewAt("ntf", now), u.ID, typ, message, now); err != nil {
		return fmt.Errorf("insert notification: %w", err)
	}
	return notify.Queue(ctx, tx, notify.Email{To: u.Email, Subject: subject,
		Text: message + " (" + now.Format("2 January 2006, 15:04 MST") + ")\n\n" +
			"If this was not you, someone knows your password: log in and remove any passkey you do not recognise under Passkeys.\n"}, now)
}
