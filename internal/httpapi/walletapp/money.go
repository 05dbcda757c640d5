package walletapp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/risk"
	"github.com/paylink/paylink/internal/wallet"
	"github.com/paylink/paylink/internal/walletrisk"
	"github.com/paylink/paylink/internal/wire"
)

var (
	errCardRequired = &apperr.Error{Kind: apperr.Invalid, Code: "card_required", Param: "card",
		Message: "Give the card to top up from: number, exp_month, exp_year and cvc."}
	errProcessorUnavailable = &apperr.Error{Kind: apperr.Unavailable, Code: "processor_unavailable",
		Message: "The card processor could not be reached; nothing was charged. Retry with the same Idempotency-Key."}
	errTypeInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "type_invalid", Param: "type",
		Message: "type must be one of topup, transfer_in, transfer_out, payment, refund, withdrawal."}
	errStatusInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "status_invalid", Param: "status",
		Message: "status must be one of requires_action, processing, succeeded, failed, canceled."}
	errActionInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "action_invalid", Param: "action",
		Message: "action must be transfer, payment, withdrawal, add_passkey or remove_passkey."}
	errPasskeyIDInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "passkey_id_invalid", Param: "passkey",
		Message: "passkey must be the id of one of your passkeys (pk_…)."}
	errPaymentLinkInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "payment_link_invalid", Param: "payment_link",
		Message: "payment_link must be the id of a payment link (plink_…)."}
	errReceiverEmailInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "email_invalid", Param: "receiver_email",
		Message: "The receiver's e-mail address is not valid."}
)

type accountResponse struct {
	User     wire.User    `json:"user"`
	Balances []wire.Money `json:"balances"`
}

func (s *Server) walletAccount(c *gin.Context) error {
	ctx := c.Request.Context()
	u := &CurrentSession(c).User
	has, err := s.passkeys.Required(ctx, s.db.Pool, u.ID)
	if err != nil {
		return err
	}
	bals, err := s.wallet.Balances(ctx, s.db.Pool, u.ID)
	if err != nil {
		return err
	}
	out := accountResponse{User: u.ToWire(has), Balances: make([]wire.Money, len(bals))}
	for i, b := range bals {
		out.Balances[i] = wire.Money{Currency: string(b.Currency), Amount: b.Minor}
	}
	c.PureJSON(http.StatusOK, out)
	return nil
}

// parseAmount reads an amount's JSON text and a currency code.
func (s *Server) parseAmount(raw json.RawMessage, currency string) (money.Amount, error) {
	minor, err := money.ParseMinor(string(raw))
	if err != nil {
		return money.Amount{}, err
	}
	c, err := s.currencies.Parse(currency)
	if err != nil {
		return money.Amount{}, err
	}
	return money.Amount{Minor: minor, Currency: c}, nil
}

// cardRequest is a card as a top-up sends it (the checkout's card fields).
type cardRequest struct {
	Number   string `json:"number"`
	ExpMonth int    `json:"exp_month"`
	ExpYear  int    `json:"exp_year"`
	CVC      string `json:"cvc"`
}

type topUpRequest struct {
	Amount   json.RawMessage `json:"amount"`
	Currency string          `json:"currency"`
	Card     *cardRequest    `json:"card"`
}

// walletTopUp screens the attempt, authorizes a card through the
// processor, credits the wallet and queues the capture in one
// transaction, then captures. The authorization comes before the
// transaction, keyed by the attempt (walletrisk.AttemptID), so a retry
// never authorizes twice; the credit's ledger reference is the
// authorization, so it is posted once; the capture happens only for a
// committed credit (a sweep finishes it after a crash). A declined card
// changes nothing; the challenge card, or an elevated-risk attempt, gives
// a requires_action top-up (topUpChallenged); a blocked one a failed
// top-up the processor never saw (refuseBlocked).
func (s *Server) walletTopUp(c *gin.Context) error {
	var in topUpRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	amount, err := s.parseAmount(in.Amount, in.Currency)
	if err != nil {
		return err
	}
	if in.Card == nil {
		return errCardRequired
	}
	card := processor.Card{Number: in.Card.Number, ExpMonth: in.Card.ExpMonth, ExpYear: in.Card.ExpYear, CVC: in.Card.CVC}
	return s.topUp(c, amount, card, func(t *wallet.Transaction) any { return t.ToWire() }, plainError)
}

// topUp is a top-up of amount from card for the session's user, answered
// answer(top-up) once credited and refuse(status, error body) when
// screening blocks it (see walletTopUp).
func (s *Server) topUp(c *gin.Context, amount money.Amount, card processor.Card, answer func(*wallet.Transaction) any,
	refuse func(int, edge.ErrorBody) any) error {
	u := &CurrentSession(c).User
	if replayed, err := s.edge.PrecheckIdempotency(c, u.ID); err != nil || replayed {
		return err
	}
	ctx := c.Request.Context()
	key := walletrisk.AttemptID("wtop", u.ID, c.GetHeader("Idempotency-Key"))
	sc := s.risk.Check(ctx, key, wallet.TypeTopUp, u.ID, c.ClientIP(), card.Number)
	switch {
	case sc.Outcome() == risk.Block:
		return s.refuseBlocked(c, u, wallet.TypeTopUp, amount, card, sc, refuse)
	case sc.Outcome() == risk.Challenge:
		card.Challenge = true
	}
	auth, err := s.processor.Authorize(ctx, key, amount, card)
	if err != nil {
		return errProcessorUnavailable.Wrap(err)
	}
	switch auth.Status {
	case processor.Declined:
		s.risk.Failed(sc.Attempt)
		return cardError(auth.DeclineCode)
	case processor.RequiresAction:
		return s.topUpChallenged(c, u, amount, auth, sc)
	}
	details := wallet.Card{Brand: string(auth.Card.Brand), Last4: auth.Card.Last4}
	err = s.edge.Mutate(c, u.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		t, err := s.wallet.TopUp(ctx, tx, u, amount, details, auth.ID)
		if err != nil {
			return 0, nil, err
		}
		if err := walletrisk.Record(ctx, tx, t, sc, s.now()); err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, answer(t), nil
	})
	if err != nil {
		return err // not committed: the authorization lapses uncaptured
	}
	// Committed: capture now; if that fails the worker's sweep retries.
	if err := s.wallet.CapturePending(ctx, s.processor, auth.ID); err != nil {
		s.log.WarnContext(ctx, "top-up capture deferred to the sweep", "err", err, "request_id", edge.RequestID(c))
	}
	return nil
}

type transferRequest struct {
	ReceiverEmail    string          `json:"receiver_email"`
	Amount           json.RawMessage `json:"amount"`
	Currency         string          `json:"currency"`
	Note             string          `json:"note"`
	PasskeyAssertion json.RawMessage `json:"passkey_assertion"`
}

// transferBinding is what a passkey confirms for a transfer.
func transferBinding(receiverID string, amount money.Amount) passkey.Binding {
	return passkey.Binding{Action: "transfer", Amount: amount, Payee: "user:" + receiverID}
}

// walletTransfer sends money to another user by e-mail. When the sender
// has a passkey the request must carry an assertion for a confirmation of
// exactly this receiver, amount and currency.
func (s *Server) walletTransfer(c *gin.Context) error {
	var in transferRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	amount, err := s.parseAmount(in.Amount, in.Currency)
	if err != nil {
		return err
	}
	return s.transfer(c, in, amount, func(t *wallet.Transaction) any { return t.ToWire() })
}

// transfer sends amount to in's receiver from the session's user,
// answered answer(sender's entry) (see walletTransfer).
func (s *Server) transfer(c *gin.Context, in transferRequest, amount money.Amount, answer func(*wallet.Transaction) any) error {
	email, err := merchant.NormalizeEmail(in.ReceiverEmail)
	if err != nil {
		return errReceiverEmailInvalid
	}
	if len([]rune(in.Note)) > 500 {
		return wallet.ErrNoteTooLong
	}
	u := &CurrentSession(c).User
	if email == strings.ToLower(u.Email) {
		return wallet.ErrTransferToSelf
	}
	return s.edge.Mutate(c, u.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		receiver, err := s.wallet.UserByEmail(ctx, tx, email)
		if errors.Is(err, wallet.ErrUserNotFound) {
			return 0, nil, wallet.ErrReceiverNotFound
		}
		if err != nil {
			return 0, nil, err
		}
		if err := s.passkeys.Confirm(ctx, tx, u.PasskeyOwner(), transferBinding(receiver.ID, amount), in.PasskeyAssertion); err != nil {
			return 0, nil, err
		}
		t, err := s.wallet.Transfer(ctx, tx, u, receiver, amount, in.Note)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, answer(t), nil
	})
}

type confirmBeginRequest struct {
	Action        string          `json:"action"`
	ReceiverEmail string          `json:"receiver_email"`
	Amount        json.RawMessage `json:"amount"`
	Currency      string          `json:"currency"`
	PaymentLink   string          `json:"payment_link"`
	Passkey       string          `json:"passkey"`
	Card          *struct {
		Number string `json:"number"`
	} `json:"card"`
}

// passkeyConfirmBegin answers assertion options whose challenge is bound
// to one transfer (receiver, amount, currency), to one withdrawal (card
// number, amount, currency), to paying one link (its amount, currency and
// id), to a change of the user's passkeys (adding one, removing the one
// named) or password; the assertion then goes in the transfer's or
// withdrawal's passkey_assertion, the checkout payment's
// payment_method.passkey_assertion, or the passkey_assertion of
// register/finish, DELETE /v1/wallet/passkeys/{id} or /v1/wallet/password.
func (s *Server) passkeyConfirmBegin(c *gin.Context) error {
	var in confirmBeginRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	u := &CurrentSession(c).User
	var binding func(ctx context.Context, tx pgx.Tx) (passkey.Binding, error)
	switch in.Action {
	case passkey.ActionAddPasskey, passkey.ActionRemovePasskey, passkey.ActionChangePassword:
		if in.Action == passkey.ActionRemovePasskey && !id.Valid("pk", in.Passkey) {
			return errPasskeyIDInvalid
		}
		return s.edge.Mutate(c, u.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
			a, err := s.passkeys.BeginStepUp(ctx, tx, u.PasskeyOwner(), in.Action, in.Passkey)
			if err != nil {
				return 0, nil, err
			}
			return http.StatusOK, a, nil
		})
	case "transfer":
		amount, err := s.parseAmount(in.Amount, in.Currency)
		if err != nil {
			return err
		}
		email, err := merchant.NormalizeEmail(in.ReceiverEmail)
		if err != nil {
			return errReceiverEmailInvalid
		}
		if email == strings.ToLower(u.Email) {
			return wallet.ErrTransferToSelf
		}
		binding = func(ctx context.Context, tx pgx.Tx) (passkey.Binding, error) {
			receiver, err := s.wallet.UserByEmail(ctx, tx, email)
			if errors.Is(err, wallet.ErrUserNotFound) {
				return passkey.Binding{}, wallet.ErrReceiverNotFound
			}
			if err != nil {
				return passkey.Binding{}, err
			}
			return transferBinding(receiver.ID, amount), nil
		}
	case actionWithdrawal:
		amount, err := s.parseAmount(in.Amount, in.Currency)
		if err != nil {
			return err
		}
		if in.Card == nil || processor.Normalize(in.Card.Number) == "" {
			return errWithdrawCardRequired
		}
		b := withdrawalBinding(s.wallet.CardPayee(in.Card.Number), amount)
		binding = func(context.Context, pgx.Tx) (passkey.Binding, error) { return b, nil }
	case "payment":
		if !id.Valid("plink", in.PaymentLink) {
			return errPaymentLinkInvalid
		}
		binding = func(ctx context.Context, tx pgx.Tx) (passkey.Binding, error) {
			l, err := s.links.Open(ctx, tx, in.PaymentLink)
			if err != nil {
				return passkey.Binding{}, err
			}
			if err := l.Payable(s.now()); err != nil {
				return passkey.Binding{}, err
			}
			return passkey.PaymentBinding(l.ID, l.Amount), nil
		}
	default:
		return errActionInvalid
	}
	return s.edge.Mutate(c, u.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		b, err := binding(ctx, tx)
		if err != nil {
			return 0, nil, err
		}
		a, err := s.passkeys.BeginConfirmation(ctx, tx, u.PasskeyOwner(), b)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, a, nil
	})
}

var walletTypes = map[string]bool{wallet.TypeTopUp: true, wallet.TypeTransferIn: true, wallet.TypeTransferOut: true,
	wallet.TypePayment: true, wallet.TypeRefund: true, wallet.TypeWithdrawal: true}

var walletStatuses = map[string]bool{wallet.StatusRequiresAction: true, wallet.StatusProcessing: true,
	wallet.StatusSucceeded: true, wallet.StatusFailed: true, wallet.StatusCanceled: true}

func (s *Server) listWalletTransactions(c *gin.Context) error {
	p, err := edge.ParseList(c, "txn", "type", "status")
	if err != nil {
		return err
	}
	typ := c.Query("type")
	if typ != "" && !walletTypes[typ] {
		return errTypeInvalid
	}
	status := c.Query("status")
	if status != "" && !walletStatuses[status] {
		return errStatusInvalid
	}
	list, more, err := s.wallet.Transactions(c.Request.Context(), s.db.Pool, CurrentSession(c).User.ID, wallet.Filter{Type: typ, Status: status},
		p.Limit, p.StartingAfter)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, edge.ListOf(list, more, func(t wallet.Transaction) wire.WalletTransaction { return t.ToWire() }))
	return nil
}

func (s *Server) getWalletTransaction(c *gin.Context) error {
	t, err := s.wallet.Transaction(c.Request.Context(), s.db.Pool, CurrentSession(c).User.ID, c.Param("id"))
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, t.ToWire())
	return nil
}

func (s *Server) listNotifications(c *gin.Context) error {
	p, err := edge.ParseList(c, "ntf", "unread")
	if err != nil {
		return err
	}
	unread := false
	switch c.Query("unread") {
	case "", "false":
	case "true":
		unread = true
	default:
		return apperr.InvalidParam("unread_invalid", "unread", "unread must be true or false.")
	}
	list, more, err := s.wallet.Notifications(c.Request.Context(), s.db.Pool, CurrentSession(c).User.ID, unread, p.Limit, p.StartingAfter)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, edge.ListOf(list, more, func(n wallet.Notification) wire.Notification { return n.ToWire() }))
	return nil
}

func (s *Server) readNotification(c *gin.Context) error {
	if err := edge.Decode(c, &emptyRequest{}); err != nil {
		return err
	}
	u := &CurrentSession(c).User
	return s.edge.Mutate(c, u.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		n, err := s.wallet.MarkRead(ctx, tx, u.ID, c.Param("id"))
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, n.ToWire(), nil
	})
}

func (s *Server) readAllNotifications(c *gin.Context) error {
	if err := edge.Decode(c, &emptyRequest{}); err != nil {
		return err
	}
	u := &CurrentSession(c).User
	return s.edge.Mutate(c, u.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		n, err := s.wallet.MarkAllRead(ctx, tx, u.ID)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, gin.H{"marked_read": n}, nil
	})
}
