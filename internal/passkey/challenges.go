package passkey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
)

// confirmation is what a confirm challenge is bound to.
type confirmation struct {
	nonce []byte
	Binding
}

// challenge is a stored ceremony. steppedUp marks a registration begun
// after a step-up.
type challenge struct {
	userID    string
	session   webauthn.SessionData
	confirm   *confirmation
	steppedUp bool
}

func (s *Service) saveChallenge(ctx context.Context, tx pgx.Tx, purpose, userID string, sess *webauthn.SessionData, c *confirmation, steppedUp bool) error {
	now := s.now().UTC()
	b, err := json.Marshal(sess)
	if err != nil {
		return fmt.Errorf("encode webauthn session: %w", err)
	}
	var (
		uid                     *string
		nonce                   []byte
		action, currency, payee *string
		amount                  *int64
	)
	if userID != "" {
		uid = &userID
	}
	if c != nil {
		cur := string(c.Amount.Currency)
		nonce, action, amount, currency, payee = c.nonce, &c.Action, &c.Amount.Minor, &cur, &c.Payee
	}
	if _, err := tx.Exec(ctx, s.q.insertChallenge, sess.Challenge, purpose, uid, b, nonce, action, amount, currency, payee,
		now.Add(s.cfg.Timeout), now, steppedUp); err != nil {
		return fmt.Errorf("store webauthn challenge: %w", err)
	}
	return nil
}

// takeChallenge deletes and returns the live challenge of purpose, so it
// can be used once only (with tx). It returns ErrChallengeInvalid.
func (s *Service) takeChallenge(ctx context.Context, tx pgx.Tx, purpose, value string) (*challenge, error) {
	var (
		c                       challenge
		uid                     *string
		raw, nonce              []byte
		action, currency, payee *string
		amount                  *int64
	)
	err := tx.QueryRow(ctx, s.q.takeChallenge, value, purpose, s.now().UTC()).Scan(&uid, &raw, &nonce, &action, &amount,
		&currency, &payee, &c.steppedUp)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrChallengeInvalid
	case err != nil:
		return nil, fmt.Errorf("take webauthn challenge: %w", err)
	}
	if err := json.Unmarshal(raw, &c.session); err != nil {
		return nil, fmt.Errorf("decode webauthn session: %w", err)
	}
	if uid != nil {
		c.userID = *uid
	}
	if nonce != nil && action != nil && amount != nil && currency != nil && payee != nil {
		c.confirm = &confirmation{nonce: nonce, Binding: Binding{Action: *action,
			Amount: money.Amount{Minor: *amount, Currency: money.Currency(*currency)}, Payee: *payee}}
	}
	return &c, nil
}

// DeleteExpiredChallenges removes both audiences' challenges that expired
// before now and returns how many, for the periodic clean-up.
func DeleteExpiredChallenges(ctx context.Context, db postgres.DBTX, now time.Time) (int64, error) {
	var n int64
	for _, q := range []string{deleteExpiredChallenges, deleteExpiredMerchantChallenges} {
		tag, err := db.Exec(ctx, q, now)
		if err != nil {
			return n, fmt.Errorf("delete expired webauthn challenges: %w", err)
		}
		n += tag.RowsAffected()
	}
	return n, nil
}
