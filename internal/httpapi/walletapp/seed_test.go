package walletapp_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/passkey/passkeytest"
)

// seedStatus is the original service's status object.
type seedStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Reason  string `json:"reason"`
}

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

type seedAnswer struct {
	User          *seedUser  `json:"user"`
	TransactionID string     `json:"transaction_id"`
	Status        seedStatus `json:"status"`
	Transactions  []struct {
		TransactionID string  `json:"transaction_id"`
		Type          string  `json:"type"`
		SenderEmail   *string `json:"sender_email"`
		ReceiverEmail *string `json:"receiver_email"`
		Amount        int64   `json:"amount"`
		CreatedAt     string  `json:"created_at"`
	} `json:"transactions"`
	Error json.RawMessage `json:"error"`
}

// seed sends r and checks the envelope: status.code is the HTTP status,
// there is a message, and an error has reason (and no API.md error body).
func seed(t *testing.T, s *apitest.Shopper, r apitest.Req, status int, reason string) seedAnswer {
	t.Helper()
	res := s.Do(r)
	var a seedAnswer
	res.Decode(t, &a)
	if res.Status != status || a.Status.Code != status || a.Status.Message == "" || a.Status.Reason != reason || a.Error != nil {
		t.Fatalf("%s %s = %d %s; want %d with status.reason %q", r.Method, r.Path, res.Status, res.Body, status, reason)
	}
	return a
}

// TestSeedWalletRoutes drives the original wallet service's routes the
// way its documentation shows: sign up with first, middle and last name
// and phone, log in (cookie), account, top-up, pay by receiver e-mail and
// transactions, each in the status envelope, errors included, over the
// same users, sessions and ledger as /v1/wallet/*.
func TestSeedWalletRoutes(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	ada, bob := e.NewShopper(), e.NewShopper()
	up := seed(t, ada, apitest.Req{Method: "POST", Path: "/v1/signup", Body: map[string]string{"email": "ada@seed.test",
		"password": apitest.WalletPassword, "first_name": "Ada", "middle_name": "King", "last_name": "Lovelace", "phone": "+44 20 7946 0000"}}, 201, "")
	if u := up.User; u == nil || !strings.HasPrefix(u.UserID, "usr_") || u.FirstName != "Ada" || u.MiddleName != "King" ||
		u.LastName != "Lovelace" || u.Email != "ada@seed.test" || u.Phone != "+442079460000" || u.Balance != 0 || u.CreatedAt == "" || u.UpdatedAt == "" {
		t.Fatalf("signed-up user = %+v", up.User)
	}
	seed(t, bob, apitest.Req{Method: "POST", Path: "/v1/signup", Body: apitest.SignUpBody("bob@seed.test")}, 201, "")
	seed(t, ada, apitest.Req{Method: "POST", Path: "/v1/signup", Body: apitest.SignUpBody("ADA@seed.test")}, 409, "email_taken")
	seed(t, ada, apitest.Req{Method: "POST", Path: "/v1/signup", Body: map[string]string{"email": "x@seed.test"}}, 400, "name_invalid")

	// Log-in sets the same session cookie /v1/wallet/* reads.
	seed(t, ada, apitest.Req{Method: "GET", Path: "/v1/account"}, 401, "login_required")
	seed(t, ada, apitest.Req{Method: "POST", Path: "/v1/login", Body: map[string]string{"email": "ada@seed.test", "password": "wrong password"}}, 401, "invalid_credentials")
	in := seed(t, ada, apitest.Req{Method: "POST", Path: "/v1/login", Body: map[string]string{"email": "ada@seed.test", "password": apitest.WalletPassword}}, 200, "")
	if in.User == nil || in.User.UserID != up.User.UserID {
		t.Fatalf("logged-in user = %+v", in.User)
	}
	seed(t, bob, apitest.Req{Method: "POST", Path: "/v1/login", Body: map[string]string{"email": "bob@seed.test", "password": apitest.WalletPassword}}, 200, "")
	if res := ada.Do(apitest.Req{Method: "GET", Path: "/v1/wallet/account"}); res.Status != 200 {
		t.Fatalf("the seed log-in's cookie on /v1/wallet/account: %d", res.Status)
	}

	top := seed(t, ada, apitest.Req{Method: "POST", Path: "/v1/topup", Body: map[string]any{"amount": 5000},
		Header: map[string]string{"Idempotency-Key": "seed-top-1"}}, 201, "")
	again := ada.Do(apitest.Req{Method: "POST", Path: "/v1/topup", Body: map[string]any{"amount": 5000},
		Header: map[string]string{"Idempotency-Key": "seed-top-1"}})
	if !strings.HasPrefix(top.TransactionID, "txn_") || again.Header.Get("Idempotent-Replayed") != "true" || !strings.Contains(string(again.Body), top.TransactionID) {
		t.Fatalf("top-up %q, replay %d %s", top.TransactionID, again.Status, again.Body)
	}
	seed(t, ada, apitest.Req{Method: "POST", Path: "/v1/topup", Body: map[string]any{"amount": "50.00"}}, 400, "amount_invalid")
	// Refusals answered before a route is chosen wear the envelope too.
	seed(t, ada, apitest.Req{Method: "POST", Path: "/v1/topup", Body: `{"amount": 1, "pad": "` + strings.Repeat("x", 70<<10) + `"}`},
		413, "body_too_large")
	seed(t, ada, apitest.Req{Method: "GET", Path: "/v1/pay"}, 405, "method_not_allowed")
	seed(t, ada, apitest.Req{Method: "DELETE", Path: "/v1/account"}, 405, "method_not_allowed")
	if acct := seed(t, ada, apitest.Req{Method: "GET", Path: "/v1/account"}, 200, ""); acct.User.Balance != 5000 {
		t.Fatalf("balance after top-up = %d, want 5000 once", acct.User.Balance)
	}

	pay := seed(t, ada, apitest.Req{Method: "POST", Path: "/v1/pay", Body: map[string]any{"receiver_email": "bob@seed.test", "amount": 1250}}, 201, "")
	seed(t, ada, apitest.Req{Method: "POST", Path: "/v1/pay", Body: map[string]any{"receiver_email": "bob@seed.test", "amount": 3751}}, 402, "insufficient_funds")
	seed(t, ada, apitest.Req{Method: "POST", Path: "/v1/pay", Body: map[string]any{"receiver_email": "nobody@seed.test", "amount": 1}}, 404, "receiver_not_found")
	seed(t, ada, apitest.Req{Method: "POST", Path: "/v1/pay", Body: map[string]any{"receiver_email": "ada@seed.test", "amount": 1}}, 400, "transfer_to_self")
	seed(t, ada, apitest.Req{Method: "POST", Path: "/v1/pay", Body: map[string]any{"receiver_email": "bob@seed.test", "amount": 0}}, 400, "amount_invalid")
	seed(t, ada, apitest.Req{Method: "POST", Path: "/v1/pay", Body: map[string]any{"receiver_email": "bob@seed.test", "amount": 1, "currency": "EUR"}}, 400, "unknown_parameter")
	seed(t, ada, apitest.Req{Method: "POST", Path: "/v1/pay", Body: map[string]any{"receiver_email": "bob@seed.test", "amount": 1},
		Header: map[string]string{"Origin": "https://evil.test"}}, 403, "origin_not_allowed")
	if b := bob.Balances()["USD"]; b != 1250 {
		t.Fatalf("bob's /v1/wallet balance = %d, want 1250", b)
	}

	hist := seed(t, ada, apitest.Req{Method: "GET", Path: "/v1/transactions"}, 200, "")
	if len(hist.Transactions) != 2 {
		t.Fatalf("transactions = %+v", hist.Transactions)
	}
	sent, added := hist.Transactions[0], hist.Transactions[1]
	if sent.TransactionID != pay.TransactionID || sent.Type != "transfer_out" || sent.SenderEmail == nil || *sent.SenderEmail != "ada@seed.test" ||
		sent.ReceiverEmail == nil || *sent.ReceiverEmail != "bob@seed.test" || sent.Amount != 1250 || sent.CreatedAt == "" {
		t.Errorf("sent = %+v", sent)
	}
	if added.TransactionID != top.TransactionID || added.Type != "topup" || added.SenderEmail != nil || *added.ReceiverEmail != "ada@seed.test" || added.Amount != 5000 {
		t.Errorf("added = %+v", added)
	}
	if bh := seed(t, bob, apitest.Req{Method: "GET", Path: "/v1/transactions"}, 200, ""); len(bh.Transactions) != 1 ||
		*bh.Transactions[0].SenderEmail != "ada@seed.test" || *bh.Transactions[0].ReceiverEmail != "bob@seed.test" {
		t.Errorf("bob's transactions = %+v", bh.Transactions)
	}
	// The money is the ledger's: /v1/wallet/* sees the same, in the
	// platform's first currency (USD by default).
	if b := ada.Balances(); b["USD"] != 3750 || len(b) != 1 {
		t.Errorf("ada's /v1/wallet balances = %v", b)
	}
	verifyLedger(t, e)

	// Log-out through /v1/wallet ends the seed session too.
	if res := ada.Do(apitest.Req{Method: "POST", Path: "/v1/wallet/logout"}); res.Status != http.StatusOK {
		t.Fatal(res.Status)
	}
	seed(t, ada, apitest.Req{Method: "GET", Path: "/v1/transactions"}, 401, "login_required")
}

// TestSeedPayNeedsPasskeyConfirmation: a user with a passkey confirms
// transfers with it; the original route cannot carry the assertion, so it
// is refused as /v1/wallet/transfers refuses a transfer without one.
func TestSeedPayNeedsPasskeyConfirmation(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	alice := e.WalletUser("pk-seed@example.test")
	e.WalletUser("pk-seed-to@example.test")
	apitest.RegisterPasskey(t, alice, passkeytest.New(apitest.Origin))
	alice.TopUp(1000, "USD")
	seed(t, alice, apitest.Req{Method: "POST", Path: "/v1/pay", Body: map[string]any{"receiver_email": "pk-seed-to@example.test", "amount": 100}},
		403, "passkey_confirmation_required")
	if b := alice.Balances()["USD"]; b != 1000 {
		t.Fatalf("balance = %d, want 1000", b)
	}
}
