package walletapp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/risk"
	"github.com/paylink/paylink/internal/wallet"
	"github.com/paylink/paylink/internal/walletrisk"
)

// errPaymentBlocked is what a wallet user sees of a blocked top-up or
// withdrawal: checkout's code, and no reason.
var errPaymentBlocked = &apperr.Error{Kind: apperr.CardDeclined, Code: processor.CodePaymentBlocked, Param: "card",
	Message: "This could not be completed. Try another card or contact support."}

// attemptKey names a card attempt of userID: derived from the
// Idempotency-Key when there is one (a retry is the same attempt, for the
// processor and for the risk counters), else fresh.
func attemptKey(c *gin.Context, prefix, userID string) string {
	k := c.GetHeader("Idempotency-Key")
	if k == "" {
		return id.New(prefix)
	}
	sum := sha256.Sum256([]byte(userID + "\x00" + k))
	return prefix + "_" + hex.EncodeToString(sum[:16])
}

// screened is a wallet attempt and its decision; both are nil when the
// wallet does not screen.
type screened struct {
	attempt  *walletrisk.Attempt
	decision *walletrisk.Decision
}

// screen screens attempt key of kind by u with card number, before the
// processor is asked.
func (s *Server) screen(c *gin.Context, kind, key string, u *wallet.User, number string) screened {
	if s.risk == nil {
		return screened{}
	}
	a := s.risk.Attempt(key, kind, u.ID, c.ClientIP(), processor.Normalize(number))
	d := s.risk.Screen(c.Request.Context(), a)
	return screened{attempt: a, decision: &d}
}

// blocked reports whether the decision blocks the attempt.
func (sc screened) blocked() bool { return sc.decision != nil && sc.decision.Outcome == risk.Block }

// failed counts a 402 answered to the attempt towards card testing.
func (s *Server) failed(ctx context.Context, sc screened) {
	if sc.attempt != nil {
		s.risk.Failed(ctx, sc.attempt)
	}
}

// save stores the attempt's decision with wallet transaction t, in tx.
func (s *Server) save(ctx context.Context, tx pgx.Tx, t *wallet.Transaction, sc screened) error {
	return walletrisk.Save(ctx, tx, t.ID, t.UserID, sc.decision, s.now())
}

// refuseBlocked records a blocked top-up or withdrawal (typ) of amount on
// card, failed with its decision and no money moved, and answers 402
// payment_blocked, shaped by refuse (the route's error envelope), with the
// Idempotency-Key's record. It counts as a failed attempt.
func (s *Server) refuseBlocked(c *gin.Context, u *wallet.User, typ string, amount money.Amount, card processor.Card, sc screened,
	refuse func(int, edge.ErrorBody) any) error {
	s.failed(c.Request.Context(), sc)
	number := processor.Normalize(card.Number)
	details := wallet.Card{Brand: string(processor.BrandOf(number)), Last4: processor.Last4(number)}
	return s.edge.Mutate(c, u.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		t, err := s.wallet.Blocked(ctx, tx, u, typ, amount, details, "risk:"+sc.attempt.ID)
		if err != nil {
			return 0, nil, err
		}
		if err := s.save(ctx, tx, t, sc); err != nil {
			return 0, nil, err
		}
		status, body := s.edge.ErrorResponse(c, errPaymentBlocked)
		return status, refuse(status, body), nil
	})
}

// plainError is the error envelope of the /v1/wallet routes: API.md's
// error body as it is.
func plainError(_ int, body edge.ErrorBody) any { return body }
