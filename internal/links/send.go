package links

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/webhook"
)

// Sending limits (API.md: 10 recipients a link a day) and the reminder
// rhythm: 24 hours before expiry, and at most every 3 days before that.
const (
	// SendWindow is the sliding window the two sending limits count in:
	// a sending counts against them until SendWindow after it was made.
	SendWindow          = 24 * time.Hour
	MaxRecipientsPerDay = 10
	// MaxSendsPerRecipient bounds the e-mails one address gets from one
	// merchant's sendings in a day, reminders aside.
	MaxSendsPerRecipient = 5
	ReminderBeforeExpiry = 24 * time.Hour
	ReminderEvery        = 72 * time.Hour
)

// Errors of Send.
var (
	ErrLinkInactive = &apperr.Error{Kind: apperr.Gone, Code: "link_inactive",
		Message: "This payment link is no longer active (paid, deactivated or expired); it cannot be sent."}
	ErrEmailInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "email_invalid", Param: "email",
		Message: "email must be one e-mail address."}
	ErrRecipientLimit = &apperr.Error{Kind: apperr.RateLimited, Code: "send_limit_reached",
		Message: "A link may be sent to at most 10 recipients a day."}
	ErrRecipientBusy = &apperr.Error{Kind: apperr.RateLimited, Code: "send_limit_reached", Param: "email",
		Message: "This address has been sent 5 links by this merchant today; try again tomorrow."}
	// ErrShopperEmailLimit is a sending over the platform's shopper e-mail
	// limits (notify.QueueShopper: per address from all merchants, per
	// merchant), which receipts count against too.
	ErrShopperEmailLimit = &apperr.Error{Kind: apperr.RateLimited, Code: "send_limit_reached", Param: "email",
		Message: "Paylink has sent this address, or sent for this account, as many e-mails as it may today; try again tomorrow."}
)

// LimitError is a sending refused by a daily limit (ErrRecipientLimit,
// ErrRecipientBusy or ErrShopperEmailLimit, which errors.Is matches)
// with when that limit admits it: when enough of the sendings it counts
// leave SendWindow, or the shopper e-mail windows end. The API answers
// it with Retry-After.
type LimitError struct {
	Err   *apperr.Error
	Until time.Time
}

// Error names the limit and when it frees.
func (e *LimitError) Error() string {
	return e.Err.Error() + " until " + e.Until.UTC().Format(time.RFC3339)
}

// Unwrap returns the limit's error.
func (e *LimitError) Unwrap() error { return e.Err }

// RetryAfter is how long the limit still refuses the sending at now.
func (e *LimitError) RetryAfter(now time.Time) time.Duration { return e.Until.Sub(now) }

// WithShopperLimits makes the link e-mails (sendings and reminders) count
// against lim like every other e-mail to a shopper, and returns s.
func (s *Service) WithShopperLimits(lim notify.ShopperLimits) *Service {
	s.shopperLimits = lim
	return s
}

const (
	lockLinkSends = `SELECT pg_advisory_xact_lock(hashtextextended('link_sends:' || $1, 0))`

	// lockRecipientSends serializes the sendings of merchant $1 to address
	// $2 (taken after the link's lock, always in that order), so that
	// sendings of several links at once cannot pass the count together.
	lockRecipientSends = `SELECT pg_advisory_xact_lock(hashtextextended('link_sends_to:' || $1 || ':' || $2, 0))`

	// countSends counts, since $3, the distinct recipients of link $1
	// other than $2 and the sendings to $2 by the link's merchant.
	countSends = `
SELECT (SELECT count(DISTINCT email) FROM link_sends WHERE link_id = $1 AND email <> $2 AND created_at > $3),
       (SELECT count(*) FROM link_sends WHERE merchant_id = $4 AND email = $2 AND created_at > $3)`

	// nthRecipientSince is the latest sending since $3 to the recipient
	// of link $1 other than $2 whose latest sending is the ($4+1)th
	// oldest: when that one leaves the window, one fewer than $4+1 remain.
	nthRecipientSince = `
SELECT max(created_at) AS last FROM link_sends WHERE link_id = $1 AND email <> $2 AND created_at > $3
GROUP BY email ORDER BY last LIMIT 1 OFFSET $4`

	// nthSendingToSince is the ($4+1)th oldest sending since $3 of
	// merchant $1 to address $2.
	nthSendingToSince = `
SELECT created_at FROM link_sends WHERE merchant_id = $1 AND email = $2 AND created_at > $3
ORDER BY created_at LIMIT 1 OFFSET $4`

	insertSend = `
INSERT INTO link_sends (id, merchant_id, link_id, email, reminders, created_at, next_reminder_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`

	// dueReminders leases reminders due at $1, with what deciding and
	// writing them needs: the link, its merchant's name, and whether this
	// recipient has paid it.
	dueReminders = `
SELECT ` + prefixedLinkColumns + `, s.id, s.email, s.next_reminder_at, m.name,
       EXISTS (SELECT 1 FROM payments p WHERE p.payment_link_id = l.id AND p.status = 'succeeded'
               AND lower(p.customer_email) = s.email)
FROM link_sends s JOIN payment_links l ON l.id = s.link_id JOIN merchants m ON m.id = s.merchant_id
WHERE s.next_reminder_at <= $1
ORDER BY s.next_reminder_at
LIMIT $2
FOR UPDATE OF s SKIP LOCKED`

	advanceReminder = `
UPDATE link_sends SET next_reminder_at = $2, reminders_sent = reminders_sent + $3 WHERE id = $1`

	// prefixedLinkColumns is linkColumns read through the alias l.
	prefixedLinkColumns = `l.id, l.merchant_id, l.amount, l.currency, l.description, l.single_use, l.status,
       l.success_url, l.cancel_url, l.metadata, l.expires_at, l.created_at, l.completed_at, l.deactivated_at, l.realm`
)

// Sent is a link sent to a recipient.
type Sent struct {
	Link      *Link
	Email     string
	Reminders bool
}

// NextReminder is when a link expiring at expires, last e-mailed (sent or
// reminded) at from, is next reminded: every ReminderEvery, and last
// ReminderBeforeExpiry before it expires; ok is false when no reminder is
// left.
func NextReminder(from, expires time.Time) (time.Time, bool) {
	last := expires.Add(-ReminderBeforeExpiry)
	if !last.After(from) {
		return time.Time{}, false
	}
	if next := from.Add(ReminderEvery); next.Before(last) {
		return next, true
	}
	return last, true
}

// Send e-mails merchantID's link linkID to email in tx, now, and with
// reminders schedules them; it records payment_link.sent. It returns
// ErrNotFound, ErrLinkInactive, ErrEmailInvalid, or ErrRecipientLimit,
// ErrRecipientBusy or ErrShopperEmailLimit, each as a *LimitError saying
// until when.
func (s *Service) Send(ctx context.Context, tx pgx.Tx, merchantID, merchantName, linkID, email string, reminders bool) (*Sent, error) {
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || len(email) > 254 {
		return nil, ErrEmailInvalid
	}
	to := strings.ToLower(addr.Address)
	now := s.now().UTC().Truncate(time.Microsecond)
	if _, err := tx.Exec(ctx, lockLinkSends, linkID); err != nil {
		return nil, fmt.Errorf("lock link sendings: %w", err)
	}
	if _, err := tx.Exec(ctx, lockRecipientSends, merchantID, to); err != nil {
		return nil, fmt.Errorf("lock sendings to a recipient: %w", err)
	}
	l, err := s.Get(ctx, tx, merchantID, linkID)
	if err != nil {
		return nil, err
	}
	if l.Payable(now) != nil {
		return nil, ErrLinkInactive
	}
	var others, toThem int
	since := now.Add(-SendWindow)
	if err := tx.QueryRow(ctx, countSends, l.ID, to, since, merchantID).Scan(&others, &toThem); err != nil {
		return nil, fmt.Errorf("count link sendings: %w", err)
	}
	switch {
	case toThem == 0 && others >= MaxRecipientsPerDay:
		// A new recipient is admitted once all but MaxRecipientsPerDay-1
		// of today's have had no sending for SendWindow.
		return nil, limitError(ctx, tx, ErrRecipientLimit, nthRecipientSince, l.ID, to, since, others-MaxRecipientsPerDay)
	case toThem >= MaxSendsPerRecipient:
		return nil, limitError(ctx, tx, ErrRecipientBusy, nthSendingToSince, merchantID, to, since, toThem-MaxSendsPerRecipient)
	}
	var next *time.Time
	if reminders {
		if t, ok := NextReminder(now, l.ExpiresAt); ok {
			next = &t
		}
	}
	sendID := id.NewAt("lsnd", now)
	if _, err := tx.Exec(ctx, insertSend, sendID, merchantID, l.ID, to, reminders, now, next); err != nil {
		return nil, fmt.Errorf("record link sending: %w", err)
	}
	e := notify.LinkEmail(to, merchantName, l.Amount, l.Description, s.URL(l), l.ExpiresAt, false)
	switch queued, err := notify.QueueShopper(ctx, tx, "link_sent:"+sendID, merchantID, e, s.shopperLimits, now); {
	case err != nil:
		return nil, err
	case !queued: // held back: refuse the sending (the caller's rollback undoes all of it)
		return nil, &LimitError{Err: ErrShopperEmailLimit, Until: s.shopperLimits.Reset(now)}
	}
	if _, err := webhook.Record(ctx, tx, merchantID, webhook.PaymentLinkSent, s.ToWire(l), now); err != nil {
		return nil, err
	}
	return &Sent{Link: l, Email: to, Reminders: reminders}, nil
}

// limitError is err with when its limit admits a sending again: SendWindow
// after the sending that query (a key, the address, the window's start
// and an offset) finds in tx, the oldest one that must leave the window.
func limitError(ctx context.Context, tx pgx.Tx, err *apperr.Error, query, key, to string, since time.Time, offset int) error {
	var last time.Time
	if qerr := tx.QueryRow(ctx, query, key, to, since, offset).Scan(&last); qerr != nil {
		return fmt.Errorf("read when the sending limit %s frees: %w", err.Code, qerr)
	}
	return &LimitError{Err: err, Until: last.Add(SendWindow)}
}

// SendReminders e-mails up to limit reminders due now, in one
// transaction: each to a recipient whose link is still payable and who
// has not paid it, then schedules the next one; a reminder of a link paid,
// deactivated or expired ends the sending's reminders. Concurrent runs
// (several workers) take different rows, and each reminder's e-mail has a
// key of its own, so a reminder goes out at most once. It returns how
// many reminders were queued.
func (s *Service) SendReminders(ctx context.Context, db *postgres.DB, limit int) (int, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	var sent int
	err := db.WithTx(ctx, func(tx pgx.Tx) error {
		sent = 0
		rows, err := tx.Query(ctx, dueReminders, now, limit)
		if err != nil {
			return err
		}
		type due struct {
			sendID, email, merchant string
			at                      time.Time
			link                    *Link
			paid                    bool
		}
		var list []due
		for rows.Next() {
			var d due
			l, err := scanLink(rows, &d.sendID, &d.email, &d.at, &d.merchant, &d.paid)
			if err != nil {
				rows.Close()
				return err
			}
			d.link = l
			list = append(list, d)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range list {
			if d.paid || d.link.Payable(now) != nil {
				if _, err := tx.Exec(ctx, advanceReminder, d.sendID, nil, 0); err != nil {
					return err
				}
				continue
			}
			e := notify.LinkEmail(d.email, d.merchant, d.link.Amount, d.link.Description, s.URL(d.link), d.link.ExpiresAt, true)
			key := fmt.Sprintf("link_reminder:%s:%d", d.sendID, d.at.Unix())
			// Over the shopper limits, the reminder is stored held back.
			if _, err := notify.QueueShopper(ctx, tx, key, d.link.MerchantID, e, s.shopperLimits, now); err != nil {
				return err
			}
			var next *time.Time
			if t, ok := NextReminder(d.at, d.link.ExpiresAt); ok {
				next = &t
			}
			if _, err := tx.Exec(ctx, advanceReminder, d.sendID, next, 1); err != nil {
				return err
			}
			sent++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("send link reminders: %w", err)
	}
	return sent, nil
}
