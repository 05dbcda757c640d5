package merchantauth

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/notify"
)

// NotifyPasskey e-mails the merchant at email, in tx, that its dashboard
// passkey named name was added (added) or removed, so a change the
// merchant did not make is noticed even after a step-up.
func (s *Service) NotifyPasskey(ctx context.Context, tx pgx.Tx, email, name string, added bool) error {
	now := s.now().UTC()
	verb, subject := "added to", "Paylink dashboard: a passkey was added to your account"
	if !added {
		verb, subject = "removed from", "Paylink dashboard: a passkey was removed from your account"
	}
	message := fmt.Sprintf("A passkey named %s was %s your Paylink dashboard.", strconv.Quote(name), verb)
	return notify.Queue(ctx, tx, notify.Email{To: email, Subject: subject,
		Text: message + " (" + now.Format("2 January 2006, 15:04 MST") + ")\n\n" +
			"If this was not you: log in, remove any passkey you do not recognise under Settings > Passkeys, and log out everywhere.\n"}, now)
}
