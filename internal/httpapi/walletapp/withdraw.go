package walletapp

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/risk"
	"github.com/paylink/paylink/internal/wallet"
	"github.com/paylink/paylink/internal/walletrisk"
)

var errWithdrawCardRequired = &apperr.Error{Kind: apperr.Invalid, Code: "card_required", Param: "card",
	Message: "Give the card to withdraw to: number, exp_month, exp_year and cvc."}

type withdrawRequest struct {
	Amount   json.RawMessage `json:"amount"`
	Currency string          `json:"currency"`
	Card     *cardRequest    `json:"card"`
	// PasskeyAssertion confirms the withdrawal when the user has a passkey.
	PasskeyAssertion json.RawMessage `json:"passkey_assertion"`
}

// withdrawalBinding is what a user with a passkey confirms to withdraw
// amount to the card whose payee is payee (wallet.CardPayee).
func withdrawalBinding(payee string, amount money.Amount) passkey.Binding {
	return passkey.Binding{Action: actionWithdrawal, Amount: amount, Payee: payee}
}

const actionWithdrawal = "withdrawal"

// cardError is the 402 a card that cannot be used answers, as at
// checkout.
func cardError(code string) error {
	e := &apperr.Error{Kind: apperr.CardDeclined, Code: code, Message: processor.Message(code), Param: "card"}
	if code == processor.CodeInvalidNumber {
		e.Param = "card.number"
	}
	return e
}

// walletWithdraw takes money out of the wallet at once towards a card and
// answers the withdrawal, processing; the worker pays the card and settles
// it. A card that fails the checks a payment would make is refused before
// anything moves; one the issuer refuses fails the withdrawal later, with
// the money back. When the user has a passkey the request must carry an
// assertion for a confirmation of exactly this card, amount and currency,
// as a transfer does: money leaving the wallet never moves on the password
// alone. Screening comes first: a blocked withdrawal fails having moved
// nothing (refuseBlocked); an elevated-risk one's payout is held
// (walletrisk.Record).
func (s *Server) walletWithdraw(c *gin.Context) error {
	var in withdrawRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	amount, err := s.parseAmount(in.Amount, in.Currency)
	if err != nil {
		return err
	}
	if in.Card == nil {
		return errWithdrawCardRequired
	}
	card := processor.Card{Number: processor.Normalize(in.Card.Number), ExpMonth: in.Card.ExpMonth,
		ExpYear: in.Card.ExpYear, CVC: in.Card.CVC}
	u := &CurrentSession(c).User
	if replayed, err := s.edge.PrecheckIdempotency(c, u.ID); err != nil || replayed {
		return err
	}
	brand, code := processor.Validate(card, amount.Currency, s.now())
	key := walletrisk.AttemptID("wwd", u.ID, c.GetHeader("Idempotency-Key"))
	sc := s.risk.Check(c.Request.Context(), key, wallet.TypeWithdrawal, u.ID, c.ClientIP(), card.Number)
	switch {
	case code != "":
		s.risk.Failed(sc.Attempt)
		return cardError(code)
	case sc.Outcome() == risk.Block:
		return s.refuseBlocked(c, u, wallet.TypeWithdrawal, amount, card, sc, plainError)
	}
	details := wallet.Card{Brand: string(brand), Last4: processor.Last4(card.Number)}
	return s.edge.Mutate(c, u.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		binding := withdrawalBinding(s.wallet.CardPayee(card.Number), amount)
		if err := s.passkeys.Confirm(ctx, tx, u.PasskeyOwner(), binding, in.PasskeyAssertion); err != nil {
			return 0, nil, err
		}
		t, err := s.wallet.Withdraw(ctx, tx, u, amount, card, details)
		if err != nil {
			return 0, nil, err
		}
		if err := walletrisk.Record(ctx, tx, t, sc, s.now()); err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, t.ToWire(), nil
	})
}
