package checkout_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/forms"
	"github.com/paylink/paylink/internal/ledger"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/redistest"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/testclock"
)

// countingProcessor is the simulator, counting the calls that would
// reach a card network.
type countingProcessor struct {
	processor.Processor
	authorizes, voids atomic.Int32
}

func (p *countingProcessor) Authorize(ctx context.Context, key string, amount money.Amount, card processor.Card) (processor.Authorization, error) {
	p.authorizes.Add(1)
	return p.Processor.Authorize(ctx, key, amount, card)
}

func (p *countingProcessor) Void(ctx context.Context, key, authID string) error {
	p.voids.Add(1)
	return p.Processor.Void(ctx, key, authID)
}

// shop is one merchant with the services a checkout uses.
type shop struct {
	ctx       context.Context
	db        *postgres.DB
	clock     *testclock.Clock
	proc      *countingProcessor
	merchants *merchant.Service
	links     *links.Service
	forms     *forms.Service
	checkout  *checkout.Service
	m         *merchant.Merchant
}

func newShop(t *testing.T) *shop {
	t.Helper()
	ring, err := seal.Parse("1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	s := &shop{ctx: context.Background(), db: pgtest.New(t), clock: testclock.At(time.Now().UTC().Truncate(time.Second))}
	signer, _ := links.NewSigner([]links.SigningKey{{ID: "k", Secret: bytes.Repeat([]byte{1}, 32)}})
	base, _ := url.Parse("http://paylink.test")
	rdb, _ := redistest.New(t)
	s.proc = &countingProcessor{Processor: processor.NewSimulator(bytes.Repeat([]byte{2}, 32), processor.NewRedisKeys(rdb), s.clock.Now)}
	s.merchants = merchant.NewService(ring, merchant.NewUsage(), s.clock.Now)
	s.links = links.NewService(signer, base, s.clock.Now)
	s.forms = forms.NewService(base, s.clock.Now)
	s.checkout = checkout.NewService(s.proc, s.links, s.clock.Now)
	s.tx(t, func(tx pgx.Tx) (err error) {
		s.m, _, err = s.merchants.SignUp(s.ctx, tx, merchant.SignUp{Name: "Shop", Email: "shop@shop.test", Password: "x"}, "hash")
		return err
	})
	return s
}

func (s *shop) tx(t *testing.T, fn func(pgx.Tx) error) {
	t.Helper()
	if err := s.db.WithTx(s.ctx, fn); err != nil {
		t.Fatal(err)
	}
}

func (s *shop) settings(t *testing.T, u merchant.Update) {
	t.Helper()
	s.tx(t, func(tx pgx.Tx) error { _, err := s.merchants.Update(s.ctx, tx, s.m.ID, u); return err })
}

func (s *shop) link(t *testing.T, cur money.Currency, realm string) *links.Link {
	t.Helper()
	var l *links.Link
	s.tx(t, func(tx pgx.Tx) (err error) {
		l, err = s.links.Create(s.ctx, tx, s.m.ID, links.NewLink{Amount: money.Amount{Minor: 2500, Currency: cur}, Realm: realm})
		return err
	})
	return l
}

// record records auth for l as the hosted checkout does.
func (s *shop) record(l *links.Link, auth checkout.Authorization) (*checkout.Payment, error) {
	var p *checkout.Payment
	err := s.db.WithTxLater(s.ctx, func(tx pgx.Tx, later *postgres.Writes) (err error) {
		p, err = s.checkout.Record(s.ctx, tx, later, l, shopper, auth)
		return err
	})
	return p, err
}

func (s *shop) payments(t *testing.T) int {
	t.Helper()
	var n int
	if err := s.db.Pool.QueryRow(s.ctx, `SELECT count(*) FROM payments WHERE merchant_id = $1`, s.m.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// ledgerUntouched fails unless the ledger balances and the merchant holds
// want in USD.
func (s *shop) ledgerHolds(t *testing.T, want int64) {
	t.Helper()
	rep, err := ledger.Verify(s.ctx, s.db.Pool)
	if err != nil || !rep.OK() {
		t.Fatalf("ledger.Verify = %+v, %v", rep, err)
	}
	bal, err := s.checkout.Balance(s.ctx, s.db.Pool, s.m.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got int64
	for _, b := range bal.Available {
		if b.Currency == "USD" {
			got = b.Amount
		}
	}
	if got != want {
		t.Fatalf("merchant's USD balance = %d, want %d", got, want)
	}
}

var (
	visa = processor.Card{Number: "4242 4242 4242 4242", ExpMonth: 12, ExpYear: 2040, CVC: "123"}
	amex = processor.Card{Number: "378282246310005", ExpMonth: 12, ExpYear: 2040, CVC: "1234"}
)

func wantErr(t *testing.T, err, want error, status apperr.Kind) {
	t.Helper()
	e, ok := apperr.As(err)
	if !errors.Is(err, want) || !ok || e.Kind != status {
		t.Fatalf("err = %v; want %v of kind %d", err, want, status)
	}
}

// A shopper loads the page while Amex is accepted; the merchant turns
// Amex off; the shopper pays with Amex: refused as a card_error before
// the processor is asked, and nothing is recorded. Visa still pays.
func TestBrandTurnedOffBetweenPageLoadAndPayment(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	l := s.link(t, money.USD, "")
	page, err := s.links.Open(s.ctx, s.db.Pool, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(page.Accepts.CardBrands(money.USD), processor.Amex) {
		t.Fatalf("page offers %v; want Amex among them", page.Accepts.CardBrands(money.USD))
	}
	s.settings(t, merchant.Update{CardBrands: &[]string{"visa", "mastercard"}})

	paying, err := s.links.Lookup(s.ctx, s.db.Pool, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.checkout.AuthorizeAccepted(s.ctx, paying.Accepts, paying.Amount, "attempt-1", amex)
	wantErr(t, err, merchant.ErrCardBrandNotAccepted, apperr.CardDeclined)
	if n := s.proc.authorizes.Load(); n != 0 || s.payments(t) != 0 {
		t.Fatalf("after the refusal: %d authorizations, %d payments; want none", n, s.payments(t))
	}
	s.ledgerHolds(t, 0)

	auth, err := s.checkout.AuthorizeAccepted(s.ctx, paying.Accepts, paying.Amount, "attempt-2", visa)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.record(paying, auth)
	if err != nil || p.Status != checkout.Succeeded {
		t.Fatalf("Visa payment = %+v, %v; want succeeded", p, err)
	}
	s.ledgerHolds(t, 2500)
}

// Lookup's cache may hold what the merchant accepted up to a minute ago;
// a payment authorized on that stale view is refused by its insert, which
// reads the settings as they are, and the hold is released.
func TestStaleSettingsAreRefusedByTheInsert(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	l := s.link(t, money.USD, "")
	if _, err := s.links.Lookup(s.ctx, s.db.Pool, l.ID); err != nil {
		t.Fatal(err)
	}
	s.settings(t, merchant.Update{CardBrands: &[]string{"visa"}})
	s.clock.Advance(time.Minute - time.Second)
	stale, err := s.links.Lookup(s.ctx, s.db.Pool, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !stale.Accepts.AcceptsBrand(processor.Amex) {
		t.Fatal("Lookup refreshed within its minute; this test needs the cached view")
	}
	auth, err := s.checkout.AuthorizeAccepted(s.ctx, stale.Accepts, stale.Amount, "attempt-1", amex)
	if err != nil || s.proc.authorizes.Load() != 1 {
		t.Fatalf("Authorize on the stale view = %v, %d calls; want it to reach the processor", err, s.proc.authorizes.Load())
	}
	_, err = s.record(stale, auth)
	wantErr(t, err, merchant.ErrCardBrandNotAccepted, apperr.CardDeclined)
	if err := s.checkout.Release(s.ctx, auth.Authorization); err != nil || s.proc.voids.Load() != 1 {
		t.Fatalf("Release = %v, %d voids; want the hold voided", err, s.proc.voids.Load())
	}
	if s.payments(t) != 0 {
		t.Fatal("a payment was recorded in a brand the merchant turned off")
	}
	s.ledgerHolds(t, 0)
	// The refusal dropped the cached link: the next Lookup is fresh.
	fresh, err := s.links.Lookup(s.ctx, s.db.Pool, l.ID)
	if err != nil || fresh.Accepts.AcceptsBrand(processor.Amex) {
		t.Fatalf("Lookup after the refusal accepts Amex = %v (%v); want the settings as they are", fresh.Accepts.AcceptsBrand(processor.Amex), err)
	}
}

// The bound of Lookup's cache: what a merchant accepts is at most a
// minute old on a replica that did not see the change.
func TestLookupSettingsBound(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	l := s.link(t, money.USD, "")
	if _, err := s.links.Lookup(s.ctx, s.db.Pool, l.ID); err != nil {
		t.Fatal(err)
	}
	s.settings(t, merchant.Update{PaymentMethods: &[]string{"wallet"}})
	s.clock.Advance(time.Minute - time.Millisecond)
	if got, _ := s.links.Lookup(s.ctx, s.db.Pool, l.ID); !got.Accepts.AcceptsMethod(merchant.MethodCard) {
		t.Fatal("cached view changed before its minute: the test's premise is wrong")
	}
	s.clock.Advance(time.Millisecond)
	got, err := s.links.Lookup(s.ctx, s.db.Pool, l.ID)
	if err != nil || got.Accepts.AcceptsMethod(merchant.MethodCard) {
		t.Fatalf("a minute after the change Lookup still accepts cards (%v); want the new settings", err)
	}
	_, err = s.checkout.AuthorizeAccepted(s.ctx, got.Accepts, got.Amount, "a", visa)
	wantErr(t, err, merchant.ErrMethodNotAccepted, apperr.Invalid)
	if s.proc.authorizes.Load() != 0 {
		t.Fatal("a card was authorized for a merchant that turned cards off")
	}
}

func TestMethodTurnedOff(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	l := s.link(t, money.USD, "")
	s.settings(t, merchant.Update{PaymentMethods: &[]string{"card"}})
	open, err := s.links.Open(s.ctx, s.db.Pool, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.WithTx(s.ctx, func(tx pgx.Tx) error {
		_, err := s.checkout.RecordWallet(s.ctx, tx, open, shopper, "usr_nobody")
		return err
	})
	wantErr(t, err, merchant.ErrMethodNotAccepted, apperr.Invalid)
	if s.payments(t) != 0 {
		t.Fatal("a wallet payment was recorded for a merchant that turned wallets off")
	}
}

// A link made in a currency the merchant later drops answers 410; new
// links and forms in it are refused with 400 currency_not_accepted.
func TestCurrencyNoLongerAccepted(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	eur := s.link(t, money.EUR, "")
	s.settings(t, merchant.Update{Currencies: &[]string{"USD"}})
	open, err := s.links.Open(s.ctx, s.db.Pool, eur.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := open.Accepts.CheckCurrency(open.Amount.Currency); !errors.Is(err, merchant.ErrCurrencyWithdrawn) {
		t.Fatalf("the page's check of an EUR link = %v; want currency_no_longer_accepted (410)", err)
	}
	_, err = s.checkout.AuthorizeAccepted(s.ctx, open.Accepts, open.Amount, "a", visa)
	wantErr(t, err, merchant.ErrCurrencyWithdrawn, apperr.Gone)

	err = s.db.WithTx(s.ctx, func(tx pgx.Tx) error {
		_, err := s.links.Create(s.ctx, tx, s.m.ID, links.NewLink{Amount: money.Amount{Minor: 100, Currency: money.EUR}})
		return err
	})
	wantErr(t, err, merchant.ErrCurrencyNotAccepted, apperr.Invalid)
	amount := int64(100)
	err = s.db.WithTx(s.ctx, func(tx pgx.Tx) error {
		_, err := s.forms.Create(s.ctx, tx, s.m.ID, forms.NewForm{Title: "Beans", Currency: money.EUR, Amount: &amount,
			AllowedOrigins: []string{"https://shop.test"}})
		return err
	})
	wantErr(t, err, merchant.ErrCurrencyNotAccepted, apperr.Invalid)
	s.link(t, money.USD, "") // still accepted
}

// A form's and a signed link's payments follow the same settings: refused
// before the processor when the caller passes what the merchant accepts,
// and by the insert in any case.
func TestFormAndSignedPaymentsFollowSettings(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	amount := int64(1500)
	var f *forms.Form
	s.tx(t, func(tx pgx.Tx) (err error) {
		f, err = s.forms.Create(s.ctx, tx, s.m.ID, forms.NewForm{Title: "Beans", Currency: money.USD, Amount: &amount,
			AllowedOrigins: []string{"https://shop.test"}, Realm: "beans.example"})
		return err
	})
	s.settings(t, merchant.Update{CardBrands: &[]string{"visa"}})
	open, err := s.forms.Open(s.ctx, s.db.Pool, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	charge, _ := open.Charge(nil)
	_, err = s.checkout.AuthorizeAccepted(s.ctx, open.Accepts, charge, "f1", amex)
	wantErr(t, err, merchant.ErrCardBrandNotAccepted, apperr.CardDeclined)
	if s.proc.authorizes.Load() != 0 {
		t.Fatal("the form's refused card reached the processor")
	}
	auth, err := s.checkout.AuthorizeAccepted(s.ctx, merchant.Acceptance{}, charge, "f2", amex) // as if the caller skipped the check
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.WithTx(s.ctx, func(tx pgx.Tx) error {
		_, err := s.checkout.RecordForm(s.ctx, tx, open, charge, shopper, auth)
		return err
	})
	wantErr(t, err, merchant.ErrCardBrandNotAccepted, apperr.CardDeclined)

	order := checkout.SignedOrder{MerchantID: s.m.ID, Reference: "order-1", Amount: charge}
	auth, err = s.checkout.AuthorizeAccepted(s.ctx, merchant.Acceptance{}, charge, "s1", amex)
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.WithTx(s.ctx, func(tx pgx.Tx) error {
		_, err := s.checkout.RecordSigned(s.ctx, tx, order, shopper, auth)
		return err
	})
	wantErr(t, err, merchant.ErrCardBrandNotAccepted, apperr.CardDeclined)
	if paid, err := s.checkout.ReferencePaid(s.ctx, s.db.Pool, s.m.ID, "order-1"); err != nil || paid {
		t.Fatalf("the refused payment's reference is paid = %v (%v); want it free", paid, err)
	}
	if s.payments(t) != 0 {
		t.Fatal("a refused form or signed link payment was recorded")
	}

	// Visa pays the form, and the payment carries the form's realm.
	auth, err = s.checkout.AuthorizeAccepted(s.ctx, open.Accepts, charge, "f3", visa)
	if err != nil {
		t.Fatal(err)
	}
	var p *checkout.Payment
	s.tx(t, func(tx pgx.Tx) (err error) {
		p, err = s.checkout.RecordForm(s.ctx, tx, open, charge, shopper, auth)
		return err
	})
	got, err := s.checkout.Get(s.ctx, s.db.Pool, s.m.ID, p.ID)
	if err != nil || got.Realm != "beans.example" || *checkout.ToWire(got).Realm != "beans.example" {
		t.Fatalf("form payment = %+v, %v; want realm beans.example", got, err)
	}
	s.ledgerHolds(t, 1500)
}

func TestLinkRealmIsCarriedOntoPayments(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	l := s.link(t, money.USD, "shop.eu")
	open, err := s.links.Lookup(s.ctx, s.db.Pool, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := s.checkout.AuthorizeAccepted(s.ctx, open.Accepts, open.Amount, "a", visa)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.record(open, auth)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.checkout.Get(s.ctx, s.db.Pool, s.m.ID, p.ID)
	if err != nil || got.Realm != "shop.eu" || p.Realm != "shop.eu" {
		t.Fatalf("payment realm = %q (recorded %q), %v; want shop.eu", got.Realm, p.Realm, err)
	}
	plain := s.link(t, money.USD, "")
	if w := s.links.ToWire(plain); w.Realm != nil {
		t.Errorf("a link without realm shows %q, want null", *w.Realm)
	}
}

func TestRefundReason(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	l := s.link(t, money.USD, "")
	auth, err := s.checkout.AuthorizeAccepted(s.ctx, l.Accepts, l.Amount, "a", visa)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.record(l, auth)
	if err != nil {
		t.Fatal(err)
	}
	amount := int64(500)
	err = s.db.WithTx(s.ctx, func(tx pgx.Tx) error {
		_, _, err := s.checkout.RefundFor(s.ctx, tx, s.m.ID, p.ID, checkout.NewRefund{Amount: &amount, Reason: "because"})
		return err
	})
	wantErr(t, err, checkout.ErrReasonInvalid, apperr.Invalid)
	s.ledgerHolds(t, 2500)
	var r *checkout.Refund
	s.tx(t, func(tx pgx.Tx) (err error) {
		r, _, err = s.checkout.RefundFor(s.ctx, tx, s.m.ID, p.ID, checkout.NewRefund{Amount: &amount, Reason: "duplicate"})
		return err
	})
	if w := checkout.RefundToWire(r); w.Reason == nil || *w.Reason != "duplicate" || w.Amount != 500 {
		t.Fatalf("refund = %+v; want 500 with reason duplicate", w)
	}
	var stored string
	if err := s.db.Pool.QueryRow(s.ctx, `SELECT reason FROM refunds WHERE id = $1`, r.ID).Scan(&stored); err != nil || stored != "duplicate" {
		t.Fatalf("stored reason = %q, %v", stored, err)
	}
	s.ledgerHolds(t, 2000)
	s.tx(t, func(tx pgx.Tx) (err error) {
		r, _, err = s.checkout.Refund(s.ctx, tx, s.m.ID, p.ID, nil)
		return err
	})
	if w := checkout.RefundToWire(r); w.Reason != nil || w.Amount != 2000 {
		t.Fatalf("refund without reason = %+v; want the rest, reason null", w)
	}
}
