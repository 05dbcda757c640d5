package walletapp

import (
	"context"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/wallet"
	"github.com/paylink/paylink/internal/walletrisk"
)

// errPaymentBlocked is what a wallet user sees of a blocked top-up or
// withdrawal: checkout's code, and no reason.
var errPaymentBlocked = &apperr.Error{Kind: apperr.CardDeclined, Code: processor.CodePaymentBlocked, Param: "card",
	Message: "This could not be completed. Try another card or contact support."}

// refuseBlocked records a blocked top-up or withdrawal (typ) of amount on
// card, failed with its decision and no money moved, and answers 402
// payment_blocked, shaped by refuse (the route's error envelope), with the
// Idempotency-Key's record. It counts as a failed attempt.
func (s *Server) refuseBlocked(c *gin.Context, u *wallet.User, typ string, amount money.Amount, card processor.Card,
	sc walletrisk.Screening, refuse func(int, edge.ErrorBody) any) error {
	s.risk.Failed(sc.Attempt)
	number := processor.Normalize(card.Number)
	details := wallet.Card{Brand: string(processor.BrandOf(number)), Last4: processor.Last4(number)}
	return s.edge.Mutate(c, u.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		t, err := s.wallet.Blocked(ctx, tx, u, typ, amount, details, "risk:"+sc.Attempt.ID)
		if err != nil {
			return 0, nil, err
		}
		if err := walletrisk.Record(ctx, tx, t, sc, s.now()); err != nil {
			return 0, nil, err
		}
		status, body := s.edge.ErrorResponse(c, errPaymentBlocked)
		return status, refuse(status, body), nil
	})
}

// plainError is the error envelope of the /v1/wallet routes: API.md's
// error body as it is.
func plainError(_ int, body edge.ErrorBody) any { return body }
