package hostedcheckout_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/processor"
)

// countingProcessor is the card simulator, counting authorizations and
// voids.
type countingProcessor struct {
	processor.Processor
	authorized, voided atomic.Int32
}

func (p *countingProcessor) Authorize(ctx context.Context, key string, amount money.Amount, card processor.Card) (processor.Authorization, error) {
	p.authorized.Add(1)
	return p.Processor.Authorize(ctx, key, amount, card)
}

func (p *countingProcessor) Void(ctx context.Context, key, authID string) error {
	p.voided.Add(1)
	return p.Processor.Void(ctx, key, authID)
}

// countingEnv is a test server whose checkout counts what it asks of the
// card processor.
func countingEnv(t *testing.T) (*apitest.Env, *countingProcessor) {
	proc := &countingProcessor{}
	e := apitest.New(t, func(d *httpapi.Deps) {
		proc.Processor = processor.NewSimulator(apitest.TestSimulatorKey, processor.NewRedisKeys(d.Redis), d.Now)
		d.Checkout = checkout.NewService(proc, d.Links, d.Now)
	})
	return e, proc
}

func setBrands(t *testing.T, e *apitest.Env, c apitest.Creds, brands ...string) {
	t.Helper()
	res := e.Do(apitest.Req{Method: "PATCH", Path: "/v1/merchant", Auth: &c, Body: map[string]any{"card_brands": brands}})
	if res.Status != http.StatusOK {
		t.Fatalf("PATCH card_brands: %d %s", res.Status, res.Body)
	}
}

// TestBrandTurnedOffWhileTheLinkIsCached: this replica's cached link
// still accepts Visa after the merchant turned it off, so the card is
// authorized; the payment's insert refuses it, the shopper gets the 402
// card_error, and the hold is released at once. Nothing is recorded.
func TestBrandTurnedOffWhileTheLinkIsCached(t *testing.T) {
	t.Parallel()
	e, proc := countingEnv(t)
	_, c := e.SignUp("cached-brand@shop.test")
	l := e.CreateLink(c, map[string]any{"single_use": false})
	if a := apitest.PayAnswerOf(t, e.Pay(apitest.CheckoutPath(t, l), apitest.CardBody("4242424242424242"), "")); a.Payment.Status != "succeeded" {
		t.Fatalf("first payment: %+v", a)
	}
	setBrands(t, e, c, "mastercard")
	res := e.Pay(apitest.CheckoutPath(t, l), apitest.CardBody("4242424242424242"), "")
	apitest.WantError(t, res, http.StatusPaymentRequired, "card_brand_not_accepted")
	if a, v := proc.authorized.Load(), proc.voided.Load(); a != 2 || v != 1 {
		t.Fatalf("%d authorizations, %d voids; want 2 and the refused one voided", a, v)
	}
	if n := e.Count(`SELECT count(*) FROM payments`); n != 1 {
		t.Fatalf("%d payments, want only the first", n)
	}
	e.WantBalance(c, "USD", 2500)
}

// TestSignedLinksAndFormsCheckBrandsBeforeTheProcessor: a signed link
// and an embedded form refuse a brand the merchant turned off before the
// card processor is asked.
func TestSignedLinksAndFormsCheckBrandsBeforeTheProcessor(t *testing.T) {
	t.Parallel()
	e, proc := countingEnv(t)
	_, c := e.SignUp("brands@shop.test")
	f := e.CreateForm(c, nil)
	setBrands(t, e, c, "visa")
	apitest.WantError(t, e.Pay(e.SignedPath(c, nil), apitest.CardBody("378282246310005"), ""),
		http.StatusPaymentRequired, "card_brand_not_accepted")
	apitest.WantError(t, e.Pay(embedURL(f.ID, apitest.ShopOrigin), formBody("5555555555554444", nil), ""),
		http.StatusPaymentRequired, "card_brand_not_accepted")
	if a := proc.authorized.Load(); a != 0 {
		t.Fatalf("%d authorizations for refused brands", a)
	}
	if n := e.Count(`SELECT count(*) FROM payments`); n != 0 {
		t.Fatalf("%d payments recorded", n)
	}
	// Visa still pays both.
	if a := apitest.PayAnswerOf(t, e.Pay(e.SignedPath(c, nil), apitest.CardBody("4242424242424242"), "")); a.Payment.Status != "succeeded" {
		t.Fatalf("signed link with Visa: %+v", a)
	}
	if a := apitest.PayAnswerOf(t, e.Pay(embedURL(f.ID, apitest.ShopOrigin), formBody("4242424242424242", nil), "")); a.Payment.Status != "succeeded" {
		t.Fatalf("form with Visa: %+v", a)
	}
}
