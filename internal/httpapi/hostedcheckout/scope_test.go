package hostedcheckout_test

import (
	"net/http"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// TestCheckoutIdempotencyKeysAreScopedToThePayer (security review, finding
// 4): an Idempotency-Key sent to a link's checkout belongs to whoever
// sent it, the logged-in wallet user or, for cards, the browser's
// anonymous checkout session. A second shopper reusing another's key pays
// for themselves; they never get the first shopper's stored answer (their
// e-mail, name and payment).
func TestCheckoutIdempotencyKeysAreScopedToThePayer(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	_, shop := e.SignUp("scope@shop.test")
	l := e.CreateLink(shop, map[string]any{"amount": 1500, "single_use": false})
	path := apitest.CheckoutPath(t, l)
	key := map[string]string{"Idempotency-Key": "checkout-attempt-1"}

	t.Run("wallet", func(t *testing.T) {
		ada := e.WalletUser("ada.scope@example.test")
		ada.TopUp(5000, "USD")
		bob := e.WalletUser("bob.scope@example.test")
		bob.TopUp(5000, "USD")
		first := ada.Do(apitest.Req{Method: "POST", Path: path, Body: walletPayBody(nil), Header: key})
		if first.Status != http.StatusOK {
			t.Fatalf("ada pays: %d %s", first.Status, first.Body)
		}
		second := bob.Do(apitest.Req{Method: "POST", Path: path, Body: walletPayBody(nil), Header: key})
		p := apitest.PayAnswerOf(t, second).Payment
		if second.Status != http.StatusOK || second.Header.Get("Idempotent-Replayed") != "" || p.Customer.Email != "bob.scope@example.test" {
			t.Fatalf("bob with ada's key: %d replayed=%q %s; want a payment of his own", second.Status,
				second.Header.Get("Idempotent-Replayed"), second.Body)
		}
		if b := bob.Balances(); b["USD"] != 3500 {
			t.Errorf("bob's balance = %v, want 3500 USD", b)
		}
		again := ada.Do(apitest.Req{Method: "POST", Path: path, Body: walletPayBody(nil), Header: key})
		if again.Header.Get("Idempotent-Replayed") != "true" || apitest.PayAnswerOf(t, again).Payment.ID != apitest.PayAnswerOf(t, first).Payment.ID {
			t.Errorf("ada's retry: %d %s; want her first answer replayed", again.Status, again.Body)
		}
	})

	t.Run("card", func(t *testing.T) {
		carolBody := apitest.CardBody("4242424242424242")
		carolBody["email"], carolBody["name"] = "carol@example.test", "Carol"
		danBody := apitest.CardBody("5555555555554444")
		danBody["email"], danBody["name"] = "dan@example.test", "Dan"
		// Each shopper's browser opens the checkout page, then pays.
		carol, dan := e.NewShopper(), e.NewShopper()
		carol.Do(apitest.Req{Method: "GET", Path: path})
		dan.Do(apitest.Req{Method: "GET", Path: path})
		first := carol.Do(apitest.Req{Method: "POST", Path: path, Body: carolBody, Header: key})
		if first.Status != http.StatusOK {
			t.Fatalf("carol pays: %d %s", first.Status, first.Body)
		}
		second := dan.Do(apitest.Req{Method: "POST", Path: path, Body: danBody, Header: key})
		p := apitest.PayAnswerOf(t, second).Payment
		if second.Status != http.StatusOK || second.Header.Get("Idempotent-Replayed") != "" || p.Customer.Email != "dan@example.test" {
			t.Fatalf("dan with carol's key: %d %s; want a payment of his own", second.Status, second.Body)
		}
		// Even sending carol's very request, dan does not get her answer.
		third := dan.Do(apitest.Req{Method: "POST", Path: path, Body: carolBody, Header: key})
		if third.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("dan sending carol's request got her answer replayed: %s", third.Body)
		}
		apitest.WantError(t, third, 422, "idempotency_key_reused") // his own key, another request of his
		again := carol.Do(apitest.Req{Method: "POST", Path: path, Body: carolBody, Header: key})
		if again.Header.Get("Idempotent-Replayed") != "true" || apitest.PayAnswerOf(t, again).Payment.ID != apitest.PayAnswerOf(t, first).Payment.ID {
			t.Errorf("carol's retry: %d %s; want her first answer replayed", again.Status, again.Body)
		}
		if n := e.Count("SELECT count(*) FROM idempotency_keys WHERE scope LIKE '%paylink_checkout%' OR scope = $1", "link:"+l.ID); n != 0 {
			t.Errorf("%d idempotency records in the shared link scope or holding a cookie", n)
		}
	})
	if n := e.Count("SELECT count(*) FROM payments WHERE status = 'succeeded'"); n != 4 {
		t.Errorf("succeeded payments = %d, want 4 (one per shopper)", n)
	}
}
