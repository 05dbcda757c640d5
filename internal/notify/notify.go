// Package notify sends e-mail to shoppers, merchants and wallet users
// through an outbox: a message is queued in the same transaction as the
// change it reports, relayed to the task queue after commit, and sent over
// SMTP by the worker, with retries. Receipts and merchant payment e-mails
// are composed here from payment events.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/seal"
)

// Email is one message: a plain-text part and, when HTML is set, an HTML
// alternative. A composed e-mail (Receipt, LinkEmail, …) keeps its HTML
// part as its template and data until Rendered, and is stored so.
type Email struct {
	To      string
	Subject string
	Text    string
	HTML    string
	html    []byte // htmlPart as JSON, as emails.html_data stores it
	sealed  []byte // Text as QueueSealed stored it, until opened
}

// HTMLData is e's HTML part as emails.html_data stores it (its template
// and data, as JSON), nil when e has none or was rendered: for a tool
// that writes e-mail rows itself, such as the benchmark's seed.
func (e Email) HTMLData() []byte { return e.html }

// Queue stores e in tx for sending after commit. It never blocks on SMTP.
func Queue(ctx context.Context, tx pgx.Tx, e Email, now time.Time) error {
	if _, err := tx.Exec(ctx, insertEmail, id.NewAt("eml", now), e.To, e.Subject, e.Text, now, orNil(e.HTML), e.html); err != nil {
		return fmt.Errorf("queue e-mail: %w", err)
	}
	return nil
}

// QueueSealed is Queue for an e-mail whose content carries a credential,
// such as a password reset link: its text and its composed HTML part's
// data are stored sealed under keys, never in the clear, and only a
// Sender holding the keys opens them to send it. An e-mail with an HTML
// part already rendered is refused.
func QueueSealed(ctx context.Context, tx pgx.Tx, keys *seal.Keyring, e Email, now time.Time) error {
	if e.HTML != "" {
		return errors.New("queue e-mail: a sealed e-mail's HTML part must be composed, not rendered")
	}
	content, err := json.Marshal(sealedContent{Text: e.Text, HTML: e.html})
	if err != nil {
		return fmt.Errorf("queue e-mail: %w", err)
	}
	eid := id.NewAt("eml", now)
	if _, err := tx.Exec(ctx, insertSealedEmail, eid, e.To, e.Subject, now, keys.Seal(content, []byte(eid))); err != nil {
		return fmt.Errorf("queue e-mail: %w", err)
	}
	return nil
}

// sealedContent is what QueueSealed seals: the text, and the HTML part as
// emails.html_data would store it.
type sealedContent struct {
	Text string          `json:"text"`
	HTML json.RawMessage `json:"html,omitempty"`
}

// PurgeDone deletes up to batch e-mails made before cutoff that were sent
// or given up on, in one short statement, and returns how many it
// deleted; unsent ones are kept. A message queued with QueueOnce can be
// queued again once its row is gone, so cutoff must lie beyond any time
// the same key could come up again. Call it until it returns less than
// batch.
func PurgeDone(ctx context.Context, db postgres.DBTX, cutoff time.Time, batch int) (int64, error) {
	tag, err := db.Exec(ctx, purgeDone, id.Floor("eml", cutoff), batch)
	if err != nil {
		return 0, fmt.Errorf("purge sent e-mails: %w", err)
	}
	return tag.RowsAffected(), nil
}

// queueKeyed stores es's e-mails under their keys in one statement and
// reports, in es's order, which were stored: not those whose key was
// queued before, nor a key's second e-mail.
func queueKeyed(ctx context.Context, tx pgx.Tx, es []ShopperEmail, now time.Time) ([]bool, error) {
	n := len(es)
	ids, to, subjects, texts, htmls, keys := make([]string, n), make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n)
	data := make([][]byte, n)
	for i, e := range es {
		ids[i], to[i], subjects[i], texts[i], htmls[i], keys[i], data[i] = id.NewAt("eml", now), e.Email.To, e.Email.Subject,
			e.Email.Text, e.Email.HTML, e.Key, e.Email.html
	}
	rows, err := tx.Query(ctx, insertEmailsOnce, ids, to, subjects, texts, htmls, now, keys, data)
	if err != nil {
		return nil, fmt.Errorf("queue %d e-mails: %w", n, err)
	}
	stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("queue %d e-mails: %w", n, err)
	}
	fresh := make(map[string]bool, len(stored))
	for _, k := range stored {
		fresh[k] = true
	}
	out := make([]bool, n)
	for i, e := range es {
		out[i] = fresh[e.Key]
		delete(fresh, e.Key) // a key's later e-mails were not stored
	}
	return out, nil
}

// QueueOnce is Queue for a message that must go out at most once: a
// second call with the same key queues nothing and reports false.
func QueueOnce(ctx context.Context, tx pgx.Tx, key string, e Email, now time.Time) (bool, error) {
	queued, err := queueKeyed(ctx, tx, []ShopperEmail{{Key: key, Email: e}}, now)
	if err != nil {
		return false, err
	}
	return queued[0], nil
}

// orNil is nil for "", so a text-only e-mail stores no HTML.
func orNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
