package walletapp

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/wallet"
	"github.com/paylink/paylink/internal/wire"
)

// The seed-compatible routes (API.md "Seed-compatible wallet routes")
// answer clients of the original wallet service in its envelope. They are
// adapters: sign-up, log-in, transfers, top-ups and history are the same
// code as /v1/wallet/*, over the same users, sessions and ledger; only the
// shapes differ. Amounts are minor units of the platform's first currency.

// seedStatus is the envelope's "status": the HTTP status, a sentence,
// and for an error the stable code /v1/wallet/* gives as "reason".
type seedStatus struct {
	Code      int    `json:"code"`
	Message   string `json:"message"`
	Reason    string `json:"reason,omitempty"`
	Param     string `json:"param,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// seedError is the envelope of an error: edge.Route's Envelope.
func seedError(status int, b edge.ErrorBody) any {
	return gin.H{"status": seedStatus{Code: status, Message: b.Error.Message, Reason: b.Error.Code, Param: b.Error.Param,
		RequestID: b.Error.RequestID}}
}

func ok(code int, message string) seedStatus { return seedStatus{Code: code, Message: message} }

// seedUser is the original service's user, with its balance.
type seedUser struct {
	UserID     string `json:"user_id"`
	FirstName  string `json:"first_name"`
	MiddleName string `json:"middle_name"`
	LastName   string `json:"last_name"`
	Email      string `json:"email"`
	Phone      string `json:"phone"`
	Balance    int64  `json:"balance"`
	CreatedAt  string `json:"created_at"`
	UpdatedAt  string `json:"updated_at"`
}

func seedUserOf(u *wallet.User, balance int64) seedUser {
	at := wire.Time(u.CreatedAt)
	return seedUser{UserID: u.ID, FirstName: u.FirstName, MiddleName: u.MiddleName, LastName: u.LastName, Email: u.Email,
		Phone: u.Phone, Balance: balance, CreatedAt: at, UpdatedAt: at}
}

// seedRoutes are the original service's routes, declared as the wallet's
// own (session is the wallet's cookie session); each renders its errors
// in the envelope.
func (s *Server) seedRoutes(session edge.Auth) []edge.Route {
	routes := []edge.Route{
		{Method: "POST", Path: "/v1/signup", SameOrigin: true, Limit: edge.PerIPSignUp, Idempotent: true, Doc: "seedSignUp", Handle: s.seedSignUp},
		{Method: "POST", Path: "/v1/login", SameOrigin: true, Limit: edge.PerLogIn, Doc: "seedLogIn", Handle: s.seedLogin},
		{Method: "GET", Path: "/v1/account", Auth: session, Limit: edge.PerCaller, Doc: "seedAccount", Handle: s.seedAccount},
		{Method: "POST", Path: "/v1/pay", SameOrigin: true, Auth: session, Limit: edge.PerCaller, Idempotent: true, Doc: "seedPay", Handle: s.seedPay},
		{Method: "POST", Path: "/v1/topup", SameOrigin: true, Auth: session, Limit: edge.PerCaller, Idempotent: true, Doc: "seedTopUp", Handle: s.seedTopUp},
		{Method: "GET", Path: "/v1/transactions", Auth: session, Limit: edge.PerCaller, Doc: "seedTransactions", Handle: s.seedTransactions},
	}
	for i := range routes {
		routes[i].Envelope = seedError
	}
	return routes
}

// balance is u's balance in the platform's first currency.
func (s *Server) balance(c *gin.Context, userID string) (int64, error) {
	bals, err := s.wallet.Balances(c.Request.Context(), s.db.Pool, userID)
	if err != nil {
		return 0, err
	}
	for _, b := range bals {
		if b.Currency == s.currencies.First() {
			return b.Minor, nil
		}
	}
	return 0, nil
}

func (s *Server) seedSignUp(c *gin.Context) error {
	return s.signUp(c, func(u *wallet.User) any {
		return gin.H{"user": seedUserOf(u, 0), "status": ok(http.StatusCreated, "Signed up.")}
	})
}

func (s *Server) seedLogin(c *gin.Context) error {
	u, err := s.checkPassword(c)
	if err != nil {
		return err
	}
	if _, err := s.startSession(c, u, wallet.MethodPassword); err != nil {
		return err
	}
	bal, err := s.balance(c, u.ID)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, gin.H{"user": seedUserOf(u, bal), "status": ok(http.StatusOK, "Logged in.")})
	return nil
}

func (s *Server) seedAccount(c *gin.Context) error {
	u := &CurrentSession(c).User
	bal, err := s.balance(c, u.ID)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, gin.H{"user": seedUserOf(u, bal), "status": ok(http.StatusOK, "OK")})
	return nil
}

// seedAmount reads an amount in the platform's first currency.
func (s *Server) seedAmount(raw json.RawMessage) (money.Amount, error) {
	minor, err := money.ParseMinor(string(raw))
	return money.Amount{Minor: minor, Currency: s.currencies.First()}, err
}

type seedPayRequest struct {
	ReceiverEmail string          `json:"receiver_email"`
	Amount        json.RawMessage `json:"amount"`
}

// seedPay is a transfer (walletTransfer) by receiver e-mail.
func (s *Server) seedPay(c *gin.Context) error {
	var in seedPayRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	amount, err := s.seedAmount(in.Amount)
	if err != nil {
		return err
	}
	return s.transfer(c, transferRequest{ReceiverEmail: in.ReceiverEmail}, amount, func(t *wallet.Transaction) any {
		return gin.H{"transaction_id": t.ID, "status": ok(http.StatusCreated, "Sent "+amount.String()+" to "+*t.Counterparty+".")}
	})
}

type seedTopUpRequest struct {
	Amount json.RawMessage `json:"amount"`
}

// seedTopUp is a top-up (walletTopUp) with the simulator's default test
// card: the original service had no cards.
func (s *Server) seedTopUp(c *gin.Context) error {
	var in seedTopUpRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	amount, err := s.seedAmount(in.Amount)
	if err != nil {
		return err
	}
	card := processor.Card{Number: processor.CardVisa, ExpMonth: 12, ExpYear: s.now().Year() + 5, CVC: "123"}
	return s.topUp(c, amount, card, func(t *wallet.Transaction) any {
		return gin.H{"transaction_id": t.ID, "status": ok(http.StatusCreated, "Added "+amount.String()+".")}
	}, seedError)
}

// seedTransaction is the original service's history entry: who sent and
// who received (null for a card or a merchant), and what kind of
// movement it was (type, as /v1/wallet/transactions names it).
type seedTransaction struct {
	TransactionID string  `json:"transaction_id"`
	Type          string  `json:"type"`
	SenderEmail   *string `json:"sender_email"`
	ReceiverEmail *string `json:"receiver_email"`
	Amount        int64   `json:"amount"`
	CreatedAt     string  `json:"created_at"`
}

// seedHistoryLimit is how many of the newest movements the original
// history answers (it had no pagination).
const seedHistoryLimit = 100

// seedTransactions lists the user's succeeded movements in the platform's
// first currency, newest first.
func (s *Server) seedTransactions(c *gin.Context) error {
	u := &CurrentSession(c).User
	list, _, err := s.wallet.Transactions(c.Request.Context(), s.db.Pool, u.ID,
		wallet.Filter{Status: wallet.StatusSucceeded, Currency: s.currencies.First()}, seedHistoryLimit, "")
	if err != nil {
		return err
	}
	out := make([]seedTransaction, len(list))
	for i, t := range list {
		st := seedTransaction{TransactionID: t.ID, Type: t.Type, Amount: t.Amount.Minor, CreatedAt: wire.Time(t.CreatedAt)}
		me := u.Email
		switch t.Type {
		case wallet.TypeTransferOut:
			st.SenderEmail, st.ReceiverEmail = &me, t.Counterparty
		case wallet.TypeTransferIn:
			st.SenderEmail, st.ReceiverEmail = t.Counterparty, &me
		case wallet.TypeTopUp, wallet.TypeRefund:
			st.ReceiverEmail = &me
		default: // payments and withdrawals leave the wallet
			st.SenderEmail = &me
		}
		out[i] = st
	}
	c.PureJSON(http.StatusOK, gin.H{"transactions": out, "status": ok(http.StatusOK, "OK")})
	return nil
}
