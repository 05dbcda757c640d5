package merchant

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/testclock"
	"github.com/paylink/paylink/internal/wire"
)

// fixture is a database with one merchant and its first key.
type fixture struct {
	ctx   context.Context
	db    *postgres.DB
	svc   *Service
	clock *testclock.Clock
	m     *Merchant
	key   *APIKey
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ring, err := seal.Parse("1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{ctx: context.Background(), db: pgtest.New(t), clock: testclock.At(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))}
	f.svc = NewService(ring, NewUsage(), f.clock.Now)
	f.m, f.key = f.signUp(t, "ops@shop.test")
	return f
}

func (f *fixture) signUp(t *testing.T, email string) (*Merchant, *APIKey) {
	t.Helper()
	var (
		m *Merchant
		k *APIKey
	)
	f.tx(t, func(tx pgx.Tx) (err error) {
		m, k, err = f.svc.SignUp(f.ctx, tx, SignUp{Name: "Shop", Email: email, Password: "0123456789"}, "hash")
		return err
	})
	return m, k
}

// tx runs fn in a transaction and fails the test on an error.
func (f *fixture) tx(t *testing.T, fn func(pgx.Tx) error) {
	t.Helper()
	if err := f.db.WithTx(f.ctx, fn); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) update(u Update) (*Merchant, error) {
	var m *Merchant
	err := f.db.WithTx(f.ctx, func(tx pgx.Tx) (err error) {
		m, err = f.svc.Update(f.ctx, tx, f.m.ID, u)
		return err
	})
	return m, err
}

func list(s ...string) *[]string { return &s }
func str(s string) *string       { return &s }

// wantCode fails unless err is an *apperr.Error with code and param.
func wantCode(t *testing.T, err error, code, param string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != code || e.Param != param {
		t.Fatalf("err = %v (%+v); want code %s param %q", err, e, code, param)
	}
}

func TestNewMerchantSettingsDefaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	want := wire.Merchant{ID: f.m.ID, Name: "Shop", Email: "ops@shop.test", CreatedAt: wire.Time(f.clock.Now()),
		Currencies: []string{"AUD", "CAD", "EUR", "GBP", "INR", "JPY", "USD"}, PaymentMethods: []string{"card", "wallet"},
		CardBrands: []string{"visa", "mastercard", "amex", "discover"}, NotificationEmail: "ops@shop.test",
		NotifyOn: []string{"payment.succeeded"}, PaymentEmails: true}
	if diff := cmp.Diff(want, ToWire(f.m)); diff != "" {
		t.Errorf("SignUp's merchant (-want +got):\n%s", diff)
	}
	got, err := f.svc.Get(f.ctx, f.db.Pool, f.m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, ToWire(got)); diff != "" {
		t.Errorf("Get after SignUp (-want +got):\n%s", diff)
	}
}

// A merchant row from before settings existed has them all NULL: it
// accepts everything the platform offers and is told at its sign-up
// address.
func TestExistingMerchantFollowsThePlatform(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.db.Pool.Exec(f.ctx, `INSERT INTO merchants (id, name, email, password_hash, notify_on)
		VALUES ('mer_old', 'Old', 'old@shop.test', 'x', '{}')`); err != nil {
		t.Fatal(err)
	}
	set, _ := money.ParseSet("usd,eur")
	svc := NewService(f.svc.seal, NewUsage(), f.clock.Now).WithCurrencies(set)
	m, err := svc.Get(f.ctx, f.db.Pool, "mer_old")
	if err != nil {
		t.Fatal(err)
	}
	w := ToWire(m)
	if diff := cmp.Diff([]string{"EUR", "USD"}, w.Currencies); diff != "" || len(w.PaymentMethods) != 2 || len(w.CardBrands) != 4 ||
		w.NotificationEmail != "old@shop.test" || len(w.NotifyOn) != 0 {
		t.Errorf("old merchant = %+v; want the platform's EUR, USD, every method and brand, sign-up e-mail, no e-mails", w)
	}
}

func TestUpdateChangesOnlyWhatIsGiven(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	m, err := f.update(Update{Currencies: list("eur", "usd", "EUR"), CardBrands: list("Visa", "amex")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"EUR", "USD"}, ToWire(m).Currencies); diff != "" {
		t.Errorf("currencies (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"visa", "amex"}, ToWire(m).CardBrands); diff != "" {
		t.Errorf("card_brands (-want +got):\n%s", diff)
	}
	m, err = f.update(Update{Name: str(" Shop Two "), PaymentMethods: list("wallet"),
		NotificationEmail: str("Alerts@Shop.test"), NotifyOn: list("payment.failed", "payment.refunded")})
	if err != nil {
		t.Fatal(err)
	}
	want := wire.Merchant{ID: f.m.ID, Name: "Shop Two", Email: "ops@shop.test", CreatedAt: wire.Time(f.m.CreatedAt),
		Currencies: []string{"EUR", "USD"}, PaymentMethods: []string{"wallet"}, CardBrands: []string{"visa", "amex"},
		NotificationEmail: "alerts@shop.test", NotifyOn: []string{"payment.failed", "payment.refunded"}}
	if diff := cmp.Diff(want, ToWire(m)); diff != "" {
		t.Errorf("after the second update (-want +got):\n%s", diff)
	}
	// An empty notify_on turns the e-mails off; nothing else changes.
	if m, err = f.update(Update{NotifyOn: list()}); err != nil || len(m.Settings.NotifyOn) != 0 || m.Name != "Shop Two" {
		t.Fatalf("notify_on [] = %+v, %v; want no events and the rest kept", m, err)
	}
	// An empty update answers the merchant as it is.
	again, err := f.update(Update{})
	if err != nil {
		t.Fatal(err)
	}
	want.NotifyOn = []string{}
	if diff := cmp.Diff(want, ToWire(again)); diff != "" {
		t.Errorf("empty update (-want +got):\n%s", diff)
	}
}

func TestUpdateRefusesBadSettingsAndChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name        string
		u           Update
		code, param string
	}{
		{"currency not on the platform", Update{Currencies: list("USD", "CHF")}, "currency_unsupported", "currencies"},
		{"not a currency", Update{Currencies: list("dollars")}, "currency_unsupported", "currencies"},
		{"no currency", Update{Currencies: list()}, "currencies_invalid", "currencies"},
		{"no method", Update{PaymentMethods: list()}, "payment_methods_invalid", "payment_methods"},
		{"unknown method", Update{PaymentMethods: list("card", "cash")}, "payment_methods_invalid", "payment_methods"},
		{"no brand", Update{CardBrands: list()}, "card_brands_invalid", "card_brands"},
		{"unknown brand", Update{CardBrands: list("diners")}, "card_brands_invalid", "card_brands"},
		{"unknown event", Update{NotifyOn: list("payment.exploded")}, "notify_on_invalid", "notify_on"},
		{"bad notification e-mail", Update{NotificationEmail: str("not an address")}, "email_invalid", "notification_email"},
		{"empty name", Update{Name: str("  ")}, "name_invalid", "name"},
		// Sign-up's rule (ValidateName): shoppers read the name in e-mails.
		{"web address as name", Update{Name: str("https://evil.com")}, "name_not_allowed", "name"},
		{"Paylink's name", Update{Name: str("Paylink Support")}, "name_not_allowed", "name"},
		{"invisible character in name", Update{Name: str("Acme\u200bMugs")}, "name_invalid", "name"},
		// A valid field next to a bad one is not applied either.
		{"good and bad", Update{Name: str("Renamed"), CardBrands: list("visa", "nope")}, "card_brands_invalid", "card_brands"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.update(tc.u)
			wantCode(t, err, tc.code, tc.param)
		})
	}
	got, err := f.svc.Get(f.ctx, f.db.Pool, f.m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ToWire(f.m), ToWire(got)); diff != "" {
		t.Errorf("refused updates changed the merchant (-before +after):\n%s", diff)
	}
}

func TestCheckPayment(t *testing.T) {
	t.Parallel()
	a := Acceptance{Currencies: []money.Currency{money.USD}, Methods: []Method{MethodCard},
		Brands: []processor.Brand{processor.Visa}}
	tests := []struct {
		name   string
		acc    Acceptance
		cur    money.Currency
		method Method
		brand  processor.Brand
		want   error
	}{
		{"everything by default", Acceptance{}, money.JPY, MethodWallet, "", nil},
		{"accepted card", a, money.USD, MethodCard, processor.Visa, nil},
		{"brand not known yet", a, money.USD, MethodCard, "", nil},
		{"brand off", a, money.USD, MethodCard, processor.Amex, ErrCardBrandNotAccepted},
		{"method off", a, money.USD, MethodWallet, "", ErrMethodNotAccepted},
		{"currency first", a, money.EUR, MethodWallet, processor.Amex, ErrCurrencyWithdrawn},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.acc.CheckPayment(tc.cur, tc.method, tc.brand); !errors.Is(got, tc.want) || (got == nil) != (tc.want == nil) {
				t.Errorf("CheckPayment(%s, %s, %s) = %v, want %v", tc.cur, tc.method, tc.brand, got, tc.want)
			}
		})
	}
	if e, _ := apperr.As(ErrCardBrandNotAccepted); e.Kind != apperr.CardDeclined {
		t.Error("card_brand_not_accepted must be a card_error (402)")
	}
	if e, _ := apperr.As(ErrCurrencyWithdrawn); e.Kind != apperr.Gone {
		t.Error("a currency no longer accepted must be a 410")
	}
}

// The database's rule (paylink_merchant_accepts, used by every payment's
// insert) and Go's (Acceptance.CheckPayment, used before the processor)
// must agree, or a payment checked by one would be refused by the other.
func TestDatabaseAndGoAgreeOnAcceptance(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	settings := []Update{
		{},
		{Currencies: list("USD"), PaymentMethods: list("card"), CardBrands: list("visa", "mastercard")},
		{Currencies: list("EUR", "JPY"), PaymentMethods: list("wallet"), CardBrands: list("amex")},
	}
	for i, u := range settings {
		if _, err := f.update(u); err != nil {
			t.Fatal(err)
		}
		acc, err := LoadAcceptance(f.ctx, f.db.Pool, f.m.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, cur := range []money.Currency{money.USD, money.EUR, money.JPY} {
			for _, m := range Methods {
				for _, b := range append([]processor.Brand{""}, Brands...) {
					var inDB bool
					if err := f.db.Pool.QueryRow(f.ctx, `SELECT paylink_merchant_accepts($1, $2, $3, $4)`, f.m.ID,
						string(cur), string(m), nullIfEmpty(string(b))).Scan(&inDB); err != nil {
						t.Fatal(err)
					}
					if inGo := acc.CheckPayment(cur, m, b) == nil; inGo != inDB {
						t.Errorf("settings #%d, %s %s %q: Go says %v, the database %v", i, cur, m, b, inGo, inDB)
					}
				}
			}
		}
	}
	var unknown bool
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT paylink_merchant_accepts('mer_none', 'USD', NULL, NULL)`).Scan(&unknown); err != nil || unknown {
		t.Errorf("an unknown merchant accepts = %v, %v; want false", unknown, err)
	}
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func TestCardBrandsOffered(t *testing.T) {
	t.Parallel()
	a := Acceptance{Brands: []processor.Brand{processor.Amex, processor.Visa}}
	if diff := cmp.Diff([]processor.Brand{processor.Visa, processor.Amex}, a.CardBrands(money.USD)); diff != "" {
		t.Errorf("USD brands (-want +got):\n%s", diff)
	}
	// Amex takes USD only.
	if diff := cmp.Diff([]processor.Brand{processor.Visa}, a.CardBrands(money.EUR)); diff != "" {
		t.Errorf("EUR brands (-want +got):\n%s", diff)
	}
}
