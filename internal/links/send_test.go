package links_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/testclock"
)

type sendFixture struct {
	t     *testing.T
	ctx   context.Context
	db    *postgres.DB
	clock *testclock.Clock
	links *links.Service
	mer   *merchant.Merchant
}

func newSendFixture(t *testing.T) *sendFixture {
	t.Helper()
	f := &sendFixture{t: t, ctx: context.Background(), db: pgtest.New(t),
		clock: testclock.At(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))}
	signer, err := links.NewSigner([]links.SigningKey{{ID: "t1", Secret: bytes.Repeat([]byte{0x5a}, 32)}})
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("http://paylink.test")
	f.links = links.NewService(signer, base, f.clock.Now)
	keyring, _ := seal.Parse("1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	merchants := merchant.NewService(keyring, merchant.NewUsage(), f.clock.Now)
	f.tx(func(tx pgx.Tx) (err error) {
		f.mer, _, err = merchants.SignUp(f.ctx, tx, merchant.SignUp{Name: "Tea House", Email: "owner@tea.test"}, "hash")
		return err
	})
	return f
}

func (f *sendFixture) tx(fn func(pgx.Tx) error) {
	f.t.Helper()
	if err := f.db.WithTx(f.ctx, fn); err != nil {
		f.t.Fatal(err)
	}
}

func (f *sendFixture) link(expiresIn time.Duration) *links.Link {
	f.t.Helper()
	var l *links.Link
	secs := int64(expiresIn / time.Second)
	f.tx(func(tx pgx.Tx) (err error) {
		l, err = f.links.Create(f.ctx, tx, f.mer.ID, links.NewLink{Amount: money.Amount{Minor: 2500, Currency: money.USD},
			Description: "Sencha", ExpiresIn: &secs})
		return err
	})
	return l
}

func (f *sendFixture) send(linkID, email string, reminders bool) error {
	return f.db.WithTx(f.ctx, func(tx pgx.Tx) error {
		_, err := f.links.Send(f.ctx, tx, f.mer.ID, f.mer.Name, linkID, email, reminders)
		return err
	})
}

func (f *sendFixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.Pool.QueryRow(f.ctx, q, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// A link valid for 8 days, sent with reminders, is reminded every 3 days
// and 24 hours before it expires, each once, at those moments and not
// before; several workers scanning at once send each reminder once.
func TestRemindersComeAtTheirMomentsOnce(t *testing.T) {
	t.Parallel()
	f := newSendFixture(t)
	start := f.clock.Now()
	l := f.link(8 * 24 * time.Hour)
	if err := f.send(l.ID, "Ada@Example.test", true); err != nil {
		t.Fatal(err)
	}
	if err := f.send(l.ID, "bob@example.test", false); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM emails WHERE dedupe_key LIKE 'link_sent:%'`); n != 2 {
		t.Fatalf("%d link e-mails sent now, want 2", n)
	}
	if n := f.count(`SELECT count(*) FROM events WHERE type = 'payment_link.sent' AND data->>'id' = $1`, l.ID); n != 2 {
		t.Fatalf("%d payment_link.sent events, want 2", n)
	}
	scan := func(at time.Duration, workers int) int {
		f.clock.Set(start.Add(at))
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			total int
		)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := f.links.SendReminders(f.ctx, f.db, 100)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		return total
	}
	for _, step := range []struct {
		at   time.Duration
		want int
	}{
		{71*time.Hour + 59*time.Minute, 0},
		{72 * time.Hour, 1}, // 3 days on
		{72*time.Hour + time.Minute, 0},
		{143 * time.Hour, 0},
		{144 * time.Hour, 1}, // 6 days on
		{167 * time.Hour, 0},
		{168 * time.Hour, 1}, // 24 hours before expiry
		{191 * time.Hour, 0},
		{30 * 24 * time.Hour, 0},
	} {
		if got := scan(step.at, 4); got != step.want {
			t.Fatalf("at +%s: %d reminders, want %d", step.at, got, step.want)
		}
	}
	if n := f.count(`SELECT count(*) FROM emails WHERE dedupe_key LIKE 'link_reminder:%' AND to_addr = 'ada@example.test'`); n != 3 {
		t.Fatalf("%d reminder e-mails, want 3", n)
	}
	if n := f.count(`SELECT count(*) FROM emails WHERE to_addr = 'bob@example.test'`); n != 1 {
		t.Fatalf("bob, without reminders, got %d e-mails", n)
	}
}

// Reminders stop once the link is paid by the recipient or deactivated;
// a link expiring within a day gets none.
func TestRemindersStop(t *testing.T) {
	t.Parallel()
	f := newSendFixture(t)
	start := f.clock.Now()
	paid, closed, short := f.link(10*24*time.Hour), f.link(10*24*time.Hour), f.link(20*time.Hour)
	for _, id := range []string{paid.ID, closed.ID, short.ID} {
		if err := f.send(id, "ada@example.test", true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.db.Pool.Exec(f.ctx, `
INSERT INTO payments (id, merchant_id, payment_link_id, single_use, amount, currency, status, customer_email, customer_name, method_type, created_at, updated_at)
VALUES ('pay_1', $1, $2, false, 2500, 'USD', 'succeeded', 'ADA@example.test', 'Ada', 'card', $3, $3)`, f.mer.ID, paid.ID, start); err != nil {
		t.Fatal(err)
	}
	f.tx(func(tx pgx.Tx) error { _, err := f.links.Deactivate(f.ctx, tx, f.mer.ID, closed.ID); return err })
	f.clock.Set(start.Add(30 * 24 * time.Hour))
	if n, err := f.links.SendReminders(f.ctx, f.db, 100); n != 0 || err != nil {
		t.Fatalf("SendReminders = %d, %v; want none", n, err)
	}
	if n := f.count(`SELECT count(*) FROM link_sends WHERE next_reminder_at IS NOT NULL`); n != 0 {
		t.Fatalf("%d sendings still scheduled", n)
	}
}

// Bad input changes nothing; an inactive link is 410; at most 10
// recipients a link a day.
func TestSendLimits(t *testing.T) {
	t.Parallel()
	f := newSendFixture(t)
	l := f.link(48 * time.Hour)
	if err := f.send(l.ID, "Ada <ada@example.test>", false); !errors.Is(err, links.ErrEmailInvalid) {
		t.Fatalf("named address: %v", err)
	}
	for i := range links.MaxRecipientsPerDay {
		if err := f.send(l.ID, string(rune('a'+i))+"@example.test", false); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.send(l.ID, "z@example.test", false); !errors.Is(err, links.ErrRecipientLimit) {
		t.Fatalf("11th recipient: %v", err)
	}
	if err := f.send(l.ID, "a@example.test", false); err != nil {
		t.Fatalf("sending again to a recipient of today: %v", err)
	}
	f.clock.Set(f.clock.Now().Add(25 * time.Hour))
	if err := f.send(l.ID, "z@example.test", false); err != nil {
		t.Fatalf("a day later: %v", err)
	}
	f.clock.Set(f.clock.Now().Add(24 * time.Hour))
	if err := f.send(l.ID, "y@example.test", false); !errors.Is(err, links.ErrLinkInactive) {
		t.Fatalf("expired link: %v", err)
	}
	if n := f.count(`SELECT count(*) FROM link_sends`); n != 12 {
		t.Fatalf("%d sendings recorded, want 12", n)
	}
}

// TestSendLimitsSayWhenTheyFree: a sending over a limit is a
// *LimitError whose Until is exactly when the limit admits it: for a new
// recipient, SendWindow after the latest sending to the recipient that
// leaves the window first (a recipient sent again counts from its later
// sending); for one address, SendWindow after its oldest sending of the
// window. A microsecond before Until the sending is still refused; at
// Until it goes.
func TestSendLimitsSayWhenTheyFree(t *testing.T) {
	t.Parallel()
	f := newSendFixture(t)
	l := f.link(72 * time.Hour)
	t0 := f.clock.Now()
	must := func(email string) {
		t.Helper()
		if err := f.send(l.ID, email, false); err != nil {
			t.Fatalf("send to %s at %s: %v", email, f.clock.Now().Sub(t0), err)
		}
	}
	refused := func(linkID, email string, want *apperr.Error, until time.Time) {
		t.Helper()
		err := f.send(linkID, email, false)
		var le *links.LimitError
		if !errors.As(err, &le) || !errors.Is(err, want) || le.Err != want || !le.Until.Equal(until) {
			t.Fatalf("send to %s at +%s: %v; want %s until +%s", email, f.clock.Now().Sub(t0), err, want.Code, until.Sub(t0))
		}
		if got, wantAfter := le.RetryAfter(f.clock.Now()), until.Sub(f.clock.Now()); got != wantAfter || got <= 0 || got > links.SendWindow {
			t.Fatalf("RetryAfter = %s; want %s, within (0, %s]", got, wantAfter, links.SendWindow)
		}
	}
	must("a@example.test")
	f.clock.Set(t0.Add(2 * time.Hour))
	for i := 1; i < links.MaxRecipientsPerDay; i++ {
		must(string(rune('a'+i)) + "@example.test")
	}
	// a was sent again at +5 h: b..j (+2 h) now leave the window first.
	f.clock.Set(t0.Add(5 * time.Hour))
	must("a@example.test")
	refused(l.ID, "z@example.test", links.ErrRecipientLimit, t0.Add(2*time.Hour+links.SendWindow))
	f.clock.Set(t0.Add(2*time.Hour + links.SendWindow - time.Microsecond))
	refused(l.ID, "z@example.test", links.ErrRecipientLimit, t0.Add(2*time.Hour+links.SendWindow))
	f.clock.Set(t0.Add(2*time.Hour + links.SendWindow))
	must("z@example.test")

	// One address: sendings of other links at +27 h, +28 h, …; the sixth
	// waits for the first to leave the window.
	other := make([]*links.Link, links.MaxSendsPerRecipient+1)
	start := t0.Add(27 * time.Hour)
	for i := range other {
		f.clock.Set(start.Add(time.Duration(i) * time.Hour))
		other[i] = f.link(72 * time.Hour)
		if i < links.MaxSendsPerRecipient {
			if err := f.send(other[i].ID, "ada@example.test", false); err != nil {
				t.Fatal(err)
			}
		}
	}
	refused(other[links.MaxSendsPerRecipient].ID, "ada@example.test", links.ErrRecipientBusy, start.Add(links.SendWindow))
	f.clock.Set(start.Add(links.SendWindow))
	if err := f.send(other[links.MaxSendsPerRecipient].ID, "ada@example.test", false); err != nil {
		t.Fatalf("once the oldest sending left the window: %v", err)
	}
}

// TestSendLimitPerAddress: one merchant sends one address at most
// MaxSendsPerRecipient (5) links in 24 hours, whatever the links, the
// address's case, or how many sendings run at once; the refused ones
// record nothing, other addresses are not held back, and the window
// slides.
func TestSendLimitPerAddress(t *testing.T) {
	t.Parallel()
	f := newSendFixture(t)
	ls := make([]*links.Link, 8)
	for i := range ls {
		ls[i] = f.link(72 * time.Hour)
	}
	// Eight sendings of eight links to one address at once: five pass.
	errs := make(chan error, len(ls))
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- f.send(l.ID, "Ada@Example.test", false)
		}()
	}
	wg.Wait()
	close(errs)
	var sent, busy int
	for err := range errs {
		switch {
		case err == nil:
			sent++
		case errors.Is(err, links.ErrRecipientBusy):
			busy++
		default:
			t.Fatalf("send: %v", err)
		}
	}
	if sent != links.MaxSendsPerRecipient || busy != len(ls)-links.MaxSendsPerRecipient {
		t.Fatalf("%d sent, %d refused; want %d and %d", sent, busy, links.MaxSendsPerRecipient, len(ls)-links.MaxSendsPerRecipient)
	}
	if err := f.send(ls[0].ID, "ada@example.test", false); !errors.Is(err, links.ErrRecipientBusy) {
		t.Fatalf("6th sending, other case: %v", err)
	}
	if err := f.send(ls[0].ID, "bob@example.test", false); err != nil {
		t.Fatalf("another address: %v", err)
	}
	if n := f.count(`SELECT count(*) FROM link_sends WHERE email = 'ada@example.test'`); n != links.MaxSendsPerRecipient {
		t.Fatalf("%d sendings to the address recorded, want %d", n, links.MaxSendsPerRecipient)
	}
	if n := f.count(`SELECT count(*) FROM emails WHERE to_addr = 'ada@example.test'`); n != links.MaxSendsPerRecipient {
		t.Fatalf("%d e-mails to the address queued, want %d", n, links.MaxSendsPerRecipient)
	}
	f.clock.Set(f.clock.Now().Add(24*time.Hour - time.Microsecond))
	if err := f.send(ls[0].ID, "ada@example.test", false); !errors.Is(err, links.ErrRecipientBusy) {
		t.Fatalf("just inside the window: %v", err)
	}
	f.clock.Set(f.clock.Now().Add(time.Microsecond))
	if err := f.send(ls[0].ID, "ada@example.test", false); err != nil {
		t.Fatalf("24 hours later: %v", err)
	}
}

// TestSendingsCountAgainstShopperLimits: a link e-mail is an e-mail to a
// shopper like a receipt: over the platform's per-address limit (shared
// with every merchant and every receipt) the sending is refused with 429
// send_limit_reached and nothing of it is kept; a reminder over it is
// stored held back, not sent.
func TestSendingsCountAgainstShopperLimits(t *testing.T) {
	t.Parallel()
	f := newSendFixture(t)
	f.links.WithShopperLimits(notify.ShopperLimits{PerRecipient: notify.Limit{N: 2, Per: 24 * time.Hour}})
	l := f.link(8 * 24 * time.Hour)
	// A receipt to the address today already counts.
	f.tx(func(tx pgx.Tx) error {
		_, err := notify.QueueShopper(f.ctx, tx, "receipt:pay_1", f.mer.ID, notify.Email{To: "ada@example.test", Subject: "r", Text: "r"},
			notify.ShopperLimits{PerRecipient: notify.Limit{N: 2, Per: 24 * time.Hour}}, f.clock.Now())
		return err
	})
	if err := f.send(l.ID, "ada@example.test", true); err != nil {
		t.Fatalf("second e-mail of the day: %v", err)
	}
	// Refused until the day's window ends (fixed windows, from midnight UTC).
	err := f.send(l.ID, "ada@example.test", true)
	var le *links.LimitError
	if !errors.Is(err, links.ErrShopperEmailLimit) || !errors.As(err, &le) ||
		!le.Until.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("third e-mail of the day: %v; want ErrShopperEmailLimit until the next midnight", err)
	}
	if n := f.count(`SELECT count(*) FROM link_sends`); n != 1 {
		t.Fatalf("%d sendings recorded, want the 1 allowed", n)
	}
	if n := f.count(`SELECT count(*) FROM emails WHERE to_addr = 'ada@example.test'`); n != 2 {
		t.Fatalf("%d e-mails stored for the address, want 2 (the refused sending keeps nothing)", n)
	}
	if err := f.send(l.ID, "bob@example.test", false); err != nil {
		t.Fatalf("another address: %v", err)
	}
	// The first reminder is due at +72 h, in a new window that two
	// receipts have filled: it is stored held back, not sent.
	f.clock.Set(f.clock.Now().Add(72 * time.Hour))
	for _, pay := range []string{"pay_2", "pay_3"} {
		f.tx(func(tx pgx.Tx) error {
			_, err := notify.QueueShopper(f.ctx, tx, "receipt:"+pay, f.mer.ID, notify.Email{To: "ada@example.test", Subject: "r", Text: "r"},
				notify.ShopperLimits{PerRecipient: notify.Limit{N: 2, Per: 24 * time.Hour}}, f.clock.Now())
			return err
		})
	}
	if _, err := f.links.SendReminders(f.ctx, f.db, 10); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM emails WHERE dedupe_key LIKE 'link_reminder:%' AND failed_at IS NOT NULL AND last_error LIKE '%limit%'`); n != 1 {
		t.Fatalf("%d reminders held back, want 1", n)
	}
}
