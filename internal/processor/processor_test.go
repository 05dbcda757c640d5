package processor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/redistest"
)

var (
	secret = bytes.Repeat([]byte{7}, 32)
	now    = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	usd    = money.Amount{Minor: 2500, Currency: money.USD}
)

// memory returns a KeyMemory in a Redis database of the test's own.
func memory(t *testing.T) KeyMemory {
	rdb, _ := redistest.New(t)
	return NewRedisKeys(rdb)
}

func card(number string) Card { return Card{Number: number, ExpMonth: 12, ExpYear: 2030, CVC: "123"} }

func TestTestCards(t *testing.T) {
	sim := NewSimulator(secret, memory(t), func() time.Time { return now })
	tests := []struct {
		name   string
		card   Card
		amount money.Amount
		status Status
		code   string
		brand  Brand
	}{
		{"visa", card(CardVisa), usd, Authorized, "", Visa},
		{"mastercard", card(CardMastercard), usd, Authorized, "", Mastercard},
		{"amex usd", Card{Number: CardAmex, ExpMonth: 1, ExpYear: 2031, CVC: "1234"}, usd, Authorized, "", Amex},
		{"amex eur", Card{Number: CardAmex, ExpMonth: 1, ExpYear: 2031, CVC: "1234"}, money.Amount{Minor: 100, Currency: money.EUR}, Declined, CodeCurrencyNotSupported, Amex},
		{"amex with 3-digit cvc", card(CardAmex), usd, Declined, CodeInvalidCVC, Amex},
		{"declined", card(CardDeclined), usd, Declined, CodeCardDeclined, Visa},
		{"insufficient funds", card(CardInsufficientFunds), usd, Declined, CodeInsufficientFunds, Visa},
		{"expired card", card(CardExpired), usd, Declined, CodeExpiredCard, Visa},
		{"incorrect cvc", card(CardIncorrectCVC), usd, Declined, CodeIncorrectCVC, Visa},
		{"processing error", card(CardProcessingError), usd, Declined, CodeProcessingError, Visa},
		{"challenge", card(CardChallenge), usd, RequiresAction, "", Visa},
		{"spaces are fine", card("4242 4242 4242 4242"), usd, Authorized, "", Visa},
		{"luhn failure", card("4242424242424241"), usd, Declined, CodeInvalidNumber, ""},
		{"letters", card("4242abcd42424242"), usd, Declined, CodeInvalidNumber, ""},
		{"too short", card("42424"), usd, Declined, CodeInvalidNumber, ""},
		{"past expiry", Card{Number: CardVisa, ExpMonth: 2, ExpYear: 2026, CVC: "123"}, usd, Declined, CodeExpiredCard, Visa},
		{"expires this month", Card{Number: CardVisa, ExpMonth: 3, ExpYear: 2026, CVC: "123"}, usd, Authorized, "", Visa},
		{"month 13", Card{Number: CardVisa, ExpMonth: 13, ExpYear: 2030, CVC: "123"}, usd, Declined, CodeInvalidExpiryMonth, Visa},
		{"two-digit year", Card{Number: CardVisa, ExpMonth: 1, ExpYear: 30, CVC: "123"}, usd, Declined, CodeInvalidExpiryYear, Visa},
		{"cvc letters", Card{Number: CardVisa, ExpMonth: 1, ExpYear: 2030, CVC: "12a"}, usd, Declined, CodeInvalidCVC, Visa},
		{"other valid visa", card("4111111111111111"), usd, Authorized, "", Visa},
		{"jpy visa", card(CardVisa), money.Amount{Minor: 500, Currency: money.JPY}, Authorized, "", Visa},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := sim.Authorize(context.Background(), "k-"+tt.name, tt.amount, tt.card)
			if err != nil {
				t.Fatal(err)
			}
			if a.Status != tt.status || a.DeclineCode != tt.code || a.Card.Brand != tt.brand {
				t.Fatalf("Authorize(%s) = %s %q %s; want %s %q %s", tt.name, a.Status, a.DeclineCode, a.Card.Brand, tt.status, tt.code, tt.brand)
			}
			if tt.brand != "" && a.Card.Last4 != Last4(Normalize(tt.card.Number)) {
				t.Errorf("last4 = %q", a.Card.Last4)
			}
			if !strings.HasPrefix(a.ID, "auth_") {
				t.Errorf("reference %q", a.ID)
			}
		})
	}
}

func TestUnknownBrandWithValidLuhn(t *testing.T) {
	// 9999 9999 9999 9995 passes Luhn but belongs to no supported network.
	if !Luhn("9999999999999995") {
		t.Fatal("test number must pass Luhn")
	}
	if b, code := Validate(card("9999999999999995"), money.USD, now); b != Unknown || code != CodeCardNotSupported {
		t.Fatalf("Validate = %s %q, want unknown card_not_supported", b, code)
	}
}

func TestBrandOf(t *testing.T) {
	for number, want := range map[string]Brand{
		"4242424242424242":    Visa,
		"4222222222222":       Visa,
		"5555555555554444":    Mastercard,
		"2223003122003222":    Mastercard,
		"2721000000000000":    Unknown,
		"378282246310005":     Amex,
		"371449635398431":     Amex,
		"6011111111111117":    Discover,
		"6445644564456445":    Discover,
		"3530111333300000":    Unknown,
		"42424242424242424":   Unknown,
		"":                    Unknown,
		"6011000990139424000": Discover,
	} {
		if got := BrandOf(number); got != want {
			t.Errorf("BrandOf(%s) = %s, want %s", number, got, want)
		}
	}
}

func TestSameKeySameAnswer(t *testing.T) {
	keys := memory(t)
	sim := NewSimulator(secret, keys, func() time.Time { return now })
	ctx := context.Background()
	a1, _ := sim.Authorize(ctx, "attempt-1", usd, card(CardVisa))
	a2, _ := sim.Authorize(ctx, "attempt-1", usd, card(CardVisa))
	b, _ := sim.Authorize(ctx, "attempt-2", usd, card(CardVisa))
	if a1.ID != a2.ID {
		t.Fatalf("a retry with the same key made a second authorization: %s, %s", a1.ID, a2.ID)
	}
	if a1.ID == b.ID {
		t.Fatal("two attempts share a reference")
	}
	// Another replica (a second Simulator with the same secret) agrees.
	other := NewSimulator(secret, keys, func() time.Time { return now })
	if a3, _ := other.Authorize(ctx, "attempt-1", usd, card(CardVisa)); a3.ID != a1.ID {
		t.Fatalf("replicas disagree: %s vs %s", a3.ID, a1.ID)
	}
	c1, err := sim.Capture(ctx, "cap-1", a1.ID, usd)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := other.Capture(ctx, "cap-1", a1.ID, usd)
	if c1 != c2 || !strings.HasPrefix(c1, "cap_") {
		t.Fatalf("captures with one key = %s, %s", c1, c2)
	}
	r1, _ := sim.Refund(ctx, "re-1", a1.ID, money.Amount{Minor: 500, Currency: money.USD})
	r2, _ := sim.Refund(ctx, "re-2", a1.ID, money.Amount{Minor: 500, Currency: money.USD})
	if r1 == r2 {
		t.Fatal("two refunds with different keys share a reference")
	}
}

func TestForeignReferencesRefused(t *testing.T) {
	sim := NewSimulator(secret, memory(t), func() time.Time { return now })
	ctx := context.Background()
	a, _ := sim.Authorize(ctx, "k", usd, card(CardVisa))
	stranger := NewSimulator(bytes.Repeat([]byte{9}, 32), memory(t), func() time.Time { return now })
	forged := a.ID[:len(a.ID)-1] + map[bool]string{true: "b", false: "a"}[strings.HasSuffix(a.ID, "a")]
	for name, call := range map[string]func() error{
		"capture by another processor": func() error { _, err := stranger.Capture(ctx, "c", a.ID, usd); return err },
		"capture of an edited ref":     func() error { _, err := sim.Capture(ctx, "c", forged, usd); return err },
		"refund of garbage":            func() error { _, err := sim.Refund(ctx, "r", "auth_zzz", usd); return err },
		"void of a capture ref":        func() error { return sim.Void(ctx, "v", "cap_"+a.ID[5:]) },
		"authenticate edited ref":      func() error { _, err := sim.Authenticate(ctx, "x", forged, true); return err },
	} {
		if err := call(); !errors.Is(err, ErrUnknownAuthorization) {
			t.Errorf("%s: err = %v, want ErrUnknownAuthorization", name, err)
		}
	}
	if err := sim.Void(ctx, "v", a.ID); err != nil {
		t.Errorf("void of an issued authorization: %v", err)
	}
}

func TestChallenge(t *testing.T) {
	sim := NewSimulator(secret, memory(t), func() time.Time { return now })
	ctx := context.Background()
	a, _ := sim.Authorize(ctx, "k", usd, card(CardChallenge))
	if a.Status != RequiresAction {
		t.Fatalf("status %s", a.Status)
	}
	ok, err := sim.Authenticate(ctx, "k-approve", a.ID, true)
	if err != nil || ok.Status != Authorized || ok.ID != a.ID {
		t.Fatalf("approve = %+v, %v", ok, err)
	}
	no, err := sim.Authenticate(ctx, "k-fail", a.ID, false)
	if err != nil || no.Status != Declined || no.DeclineCode != CodeAuthenticationFailed {
		t.Fatalf("fail = %+v, %v", no, err)
	}
}

// TestRequestedChallengeWhateverTheCard: a challenge the caller requests
// (screening) comes before anything else the test card does: a card that
// succeeds is authorized once it is passed, one that declines declines
// then, with its own code; failing it is authentication_failed. Every
// such reference is one the simulator issued.
func TestRequestedChallengeWhateverTheCard(t *testing.T) {
	sim := NewSimulator(secret, memory(t), func() time.Time { return now })
	ctx := context.Background()
	for number, code := range testCards {
		if !slices.Contains(deferrable, code) {
			t.Errorf("test card %s's code %q cannot wait for a challenge", number, code)
		}
	}
	for _, tc := range []struct{ number, want string }{
		{CardVisa, ""}, {CardDeclined, CodeCardDeclined}, {CardInsufficientFunds, CodeInsufficientFunds},
		{CardProcessingError, CodeProcessingError},
	} {
		c := card(tc.number)
		c.Challenge = true
		a, err := sim.Authorize(ctx, "rc-"+tc.number, usd, c)
		if err != nil || a.Status != RequiresAction || a.DeclineCode != "" {
			t.Fatalf("%s with a challenge requested: %+v, %v", tc.number, a, err)
		}
		got, err := sim.Authenticate(ctx, "rc-ok-"+tc.number, a.ID, true)
		switch {
		case err != nil:
			t.Fatalf("%s approved: %v", tc.number, err)
		case tc.want == "" && got.Status != Authorized:
			t.Errorf("%s approved: %+v, want authorized", tc.number, got)
		case tc.want != "" && (got.Status != Declined || got.DeclineCode != tc.want):
			t.Errorf("%s approved: %+v, want declined %s", tc.number, got, tc.want)
		}
		if no, err := sim.Authenticate(ctx, "rc-no-"+tc.number, a.ID, false); err != nil || no.DeclineCode != CodeAuthenticationFailed {
			t.Errorf("%s failed: %+v, %v", tc.number, no, err)
		}
		if err := sim.Void(ctx, "rc-void-"+tc.number, a.ID); err != nil {
			t.Errorf("%s: void of an issued authorization: %v", tc.number, err)
		}
	}
	// Without the request, a declining card declines at once.
	if a, _ := sim.Authorize(ctx, "plain", usd, card(CardDeclined)); a.Status != Declined {
		t.Errorf("declining card without a challenge: %+v", a)
	}
}

func TestUnavailableWhenCanceled(t *testing.T) {
	sim := NewSimulator(secret, memory(t), func() time.Time { return now })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sim.Authorize(ctx, "k", usd, card(CardVisa)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if _, err := sim.Authorize(context.Background(), "", usd, card(CardVisa)); err == nil {
		t.Fatal("authorized without an idempotency key")
	}
}

// brokenMemory is a KeyMemory whose store cannot be reached.
type brokenMemory struct{}

func (brokenMemory) Remember(context.Context, string, []byte) ([]byte, error) {
	return nil, errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
}

// TestAnswersWithoutKeyMemory: with Paylink's Redis down the simulator
// still answers, as the processor outside Paylink it stands for would,
// each key the same answer as before (a reused key goes unnoticed).
func TestAnswersWithoutKeyMemory(t *testing.T) {
	up := NewSimulator(secret, memory(t), func() time.Time { return now })
	down := NewSimulator(secret, brokenMemory{}, func() time.Time { return now })
	ctx := context.Background()
	want, err := up.Authorize(ctx, "k-1", usd, card(CardVisa))
	if err != nil || want.Status != Authorized {
		t.Fatalf("with memory: %+v, %v", want, err)
	}
	got, err := down.Authorize(ctx, "k-1", usd, card(CardVisa))
	if err != nil || got != want {
		t.Fatalf("without memory: %+v, %v; want %+v", got, err, want)
	}
	if a, err := down.Authorize(ctx, "k-2", usd, card(CardDeclined)); err != nil || a.Status != Declined {
		t.Fatalf("declining card without memory: %+v, %v", a, err)
	}
	if _, err := down.Capture(ctx, "cap-1", want.ID, usd); err != nil {
		t.Fatalf("capture without memory: %v", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := down.Authorize(canceled, "k-3", usd, card(CardVisa)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("canceled call: %v, want ErrUnavailable", err)
	}
}

func TestCardNeverPrinted(t *testing.T) {
	c := Card{Number: CardVisa, ExpMonth: 12, ExpYear: 2030, CVC: "987"}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("oops", "card", c)
	log.Info("oops", "wrapped", struct{ C Card }{c})
	out := fmt.Sprintf("%v %+v %#v %s", c, c, c, c) + logs.String()
	for _, secret := range []string{CardVisa, "987", "4242"} {
		if strings.Contains(out, secret) {
			t.Errorf("printed card shows %q: %s", secret, out)
		}
	}
}

func TestFingerprint(t *testing.T) {
	f1 := Fingerprint(secret, CardVisa)
	if f1 != Fingerprint(secret, "4242 4242 4242 4242") {
		t.Error("fingerprint depends on spacing")
	}
	if f1 == Fingerprint(secret, CardMastercard) || f1 == Fingerprint(bytes.Repeat([]byte{8}, 32), CardVisa) {
		t.Error("fingerprints collide")
	}
	if strings.Contains(f1, "4242") || len(f1) != FingerprintLen {
		t.Errorf("fingerprint %q", f1)
	}
}

func TestMessages(t *testing.T) {
	for _, code := range []string{CodeCardDeclined, CodeInsufficientFunds, CodeExpiredCard, CodeIncorrectCVC,
		CodeProcessingError, CodeInvalidNumber, CodeInvalidCVC, CodeCurrencyNotSupported, CodeAuthenticationFailed} {
		if Message(code) == "" || (code != CodeCardDeclined && Message(code) == Message(CodeCardDeclined)) {
			t.Errorf("code %s has no message of its own", code)
		}
	}
	if !Retryable(CodeProcessingError) || Retryable(CodeCardDeclined) {
		t.Error("only processing_error is retryable")
	}
}

// TestSimulatorRefusesAReusedKeyForAnotherRequest (security review,
// finding 7): like a real processor, the simulator answers a repeated
// call with the same idempotency key and the same request as the first,
// and refuses the key with another amount, currency, card or hold.
func TestSimulatorRefusesAReusedKeyForAnotherRequest(t *testing.T) {
	ctx := context.Background()
	sim := NewSimulator(secret, memory(t), func() time.Time { return now })
	first, err := sim.Authorize(ctx, "k1", usd, card(CardVisa))
	if err != nil || first.Status != Authorized {
		t.Fatalf("Authorize = %+v, %v", first, err)
	}
	if again, err := sim.Authorize(ctx, "k1", usd, card(CardVisa)); err != nil || again.ID != first.ID {
		t.Fatalf("the same request again = %+v, %v; want %s", again, err, first.ID)
	}
	other := card(CardVisa)
	other.ExpYear++
	for name, call := range map[string]func() error{
		"amount": func() error {
			_, err := sim.Authorize(ctx, "k1", money.Amount{Minor: 9999, Currency: money.USD}, card(CardVisa))
			return err
		},
		"currency": func() error {
			_, err := sim.Authorize(ctx, "k1", money.Amount{Minor: 2500, Currency: money.EUR}, card(CardVisa))
			return err
		},
		"card":   func() error { _, err := sim.Authorize(ctx, "k1", usd, card(CardMastercard)); return err },
		"expiry": func() error { _, err := sim.Authorize(ctx, "k1", usd, other); return err },
	} {
		if err := call(); !errors.Is(err, ErrKeyReused) {
			t.Errorf("key reused with another %s: err = %v, want ErrKeyReused", name, err)
		}
	}
	if _, err := sim.Capture(ctx, "cap1", first.ID, usd); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Capture(ctx, "cap1", first.ID, money.Amount{Minor: 1, Currency: money.USD}); !errors.Is(err, ErrKeyReused) {
		t.Errorf("capture key reused with another amount: err = %v, want ErrKeyReused", err)
	}
	if _, err := sim.Refund(ctx, "rf1", first.ID, usd); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Refund(ctx, "rf1", first.ID, money.Amount{Minor: 100, Currency: money.USD}); !errors.Is(err, ErrKeyReused) {
		t.Errorf("refund key reused with another amount: err = %v, want ErrKeyReused", err)
	}
}

// TestPayout: a payout to a card that would be authorized is paid, one to
// a card that declines fails with the decline's code, and the same key
// answers the same reference.
func TestPayout(t *testing.T) {
	sim := NewSimulator(secret, memory(t), func() time.Time { return now })
	ctx := context.Background()
	noCVC := func(number string) Card { return Card{Number: number, ExpMonth: 12, ExpYear: 2030} }
	tests := []struct {
		card   Card
		status PayoutStatus
		code   string
	}{
		{noCVC(CardVisa), PayoutPaid, ""},
		{noCVC(CardAmex), PayoutPaid, ""},
		{noCVC(CardChallenge), PayoutPaid, ""},
		{noCVC(CardDeclined), PayoutFailed, CodeCardDeclined},
		{noCVC(CardInsufficientFunds), PayoutFailed, CodeInsufficientFunds},
		{noCVC(CardProcessingError), PayoutFailed, CodeProcessingError},
		{noCVC("4242424242424241"), PayoutFailed, CodeInvalidNumber},
		{Card{Number: CardVisa, ExpMonth: 1, ExpYear: 2026}, PayoutFailed, CodeExpiredCard},
	}
	for i, tt := range tests {
		p, err := sim.Payout(ctx, fmt.Sprint("po-", i), usd, tt.card)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != tt.status || p.FailureCode != tt.code || !strings.HasPrefix(p.ID, "po_") {
			t.Errorf("payout %d: %+v; want %s %q", i, p, tt.status, tt.code)
		}
	}
	a, _ := sim.Payout(ctx, "same", usd, noCVC(CardVisa))
	b, _ := sim.Payout(ctx, "same", usd, noCVC(CardVisa))
	c, _ := sim.Payout(ctx, "other", usd, noCVC(CardVisa))
	if a.ID != b.ID || a.ID == c.ID {
		t.Fatalf("references %s, %s, %s: want the first two equal and the third different", a.ID, b.ID, c.ID)
	}
	if _, err := sim.Payout(ctx, "", usd, noCVC(CardVisa)); err == nil {
		t.Fatal("a payout without a key was accepted")
	}
	// A key is the payout it was first used for: another amount,
	// currency, card or expiry under it is refused, as a real processor
	// refuses it (a withdrawal's key must never pay a second request).
	later := noCVC(CardVisa)
	later.ExpYear++
	for name, p := range map[string]struct {
		amount money.Amount
		card   Card
	}{
		"amount":   {money.Amount{Minor: 9999, Currency: money.USD}, noCVC(CardVisa)},
		"currency": {money.Amount{Minor: usd.Minor, Currency: money.EUR}, noCVC(CardVisa)},
		"card":     {usd, noCVC(CardMastercard)},
		"expiry":   {usd, later},
	} {
		if got, err := sim.Payout(ctx, "same", p.amount, p.card); !errors.Is(err, ErrKeyReused) {
			t.Errorf("payout key reused with another %s: %+v, %v; want ErrKeyReused", name, got, err)
		}
	}
	if again, err := sim.Payout(ctx, "same", usd, noCVC("4242 4242 4242 4242")); err != nil || again.ID != a.ID {
		t.Errorf("the same payout again (number spaced) = %+v, %v; want %s", again, err, a.ID)
	}
}
