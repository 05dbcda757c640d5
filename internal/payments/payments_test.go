package payments

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/pgtest"
	"github.com/paylink/paylink/internal/postgres"
)

// row is a payment as these tests write it: straight into the table, as
// checkout would have (its id made at its creation time).
type row struct {
	id, merchant, link, form, realm, email, status, brand string
	amount, refunded                                      int64
	created                                               time.Time
}

var rowColumns = []string{"id", "merchant_id", "payment_link_id", "payment_form_id", "realm", "customer_email",
	"customer_name", "status", "card_brand", "card_last4", "method_type", "amount", "amount_refunded", "currency",
	"created_at", "updated_at"}

func (r row) values() []any {
	var brand, last4 any
	if r.brand != "" {
		brand, last4 = r.brand, "4242"
	}
	return []any{r.id, r.merchant, orNil(r.link), orNil(r.form), orNil(r.realm), r.email, "Ada", r.status, brand, last4,
		"card", r.amount, r.refunded, "USD", r.created, r.created}
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// insert writes rows with COPY.
func insert(t testing.TB, db *postgres.DB, rows []row) {
	t.Helper()
	_, err := db.Pool.CopyFrom(context.Background(), pgx.Identifier{"payments"}, rowColumns,
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) { return rows[i].values(), nil }))
	if err != nil {
		t.Fatal(err)
	}
}

var (
	linkA    = id.New("plink")
	linkB    = id.New("plink")
	formA    = id.New("pform")
	t0       = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	statuses = []string{"succeeded", "succeeded", "succeeded", "failed", "requires_action", "canceled", "processing"}
)

// dataset is n payments of mer_a (and a few of mer_b, which no search of
// mer_a may show), one every 7 minutes from t0, with attributes spread
// so every filter and combination matches some and misses some.
func dataset(n int) []row {
	rng := rand.New(rand.NewPCG(1, 2))
	var rows []row
	for i := range n {
		created := t0.Add(time.Duration(i)*7*time.Minute + time.Duration(rng.IntN(1000))*time.Microsecond)
		r := row{id: id.NewAt("pay", created), merchant: "mer_a", created: created,
			status: statuses[rng.IntN(len(statuses))], amount: int64(100 + rng.IntN(20)*50), brand: "visa",
			email: fmt.Sprintf("c%d@example.test", rng.IntN(6))}
		switch rng.IntN(4) {
		case 0:
			r.link = linkA
		case 1:
			r.link = linkB
		case 2:
			r.form = formA
		}
		if rng.IntN(3) > 0 {
			r.realm = []string{"eu", "us"}[rng.IntN(2)]
		}
		if i%10 == 0 {
			r.merchant = "mer_b"
		}
		rows = append(rows, r)
	}
	return rows
}

// matches is the filters' meaning, written plainly.
func (f Filter) matches(r row) bool {
	return r.merchant == "mer_a" &&
		(f.Status == "" || string(f.Status) == r.status) &&
		(f.LinkID == "" || f.LinkID == r.link) &&
		(f.FormID == "" || f.FormID == r.form) &&
		(f.Realm == "" || f.Realm == r.realm) &&
		(f.Email == "" || f.Email == strings.ToLower(r.email)) &&
		(f.CreatedGTE == nil || !r.created.Before(*f.CreatedGTE)) &&
		(f.CreatedLT == nil || r.created.Before(*f.CreatedLT)) &&
		(f.AmountGTE == nil || r.amount >= *f.AmountGTE) &&
		(f.AmountLTE == nil || r.amount <= *f.AmountLTE)
}

// want is the ids of rows f matches, newest first.
func want(rows []row, f Filter) []string {
	var out []string
	for _, r := range rows {
		if f.matches(r) {
			out = append(out, r.id)
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

// pages reads every page of f, limit at a time, calling between(page
// number) before each page after the first.
func pages(t *testing.T, db *postgres.DB, f Filter, limit int, between func(int)) []string {
	t.Helper()
	var (
		out   []string
		after string
	)
	for page := 0; ; page++ {
		if page > 0 && between != nil {
			between(page)
		}
		got, more, err := Search(context.Background(), db.Pool, "mer_a", f, limit, after)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > limit || (more && len(got) != limit) {
			t.Fatalf("page %d: %d rows, more %v, limit %d", page, len(got), more, limit)
		}
		for _, p := range got {
			out = append(out, p.ID)
		}
		if !more {
			return out
		}
		after = got[len(got)-1].ID
	}
}

func parse(t *testing.T, query string) Filter {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFilter(q)
	if err != nil {
		t.Fatalf("ParseFilter(%s): %v", query, err)
	}
	return f
}

// Every filter alone and combined, read in pages of 3 and in one page,
// gives exactly the payments the filter's plain meaning selects, newest
// first.
func TestSearchFilters(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	rows := dataset(120)
	insert(t, db, rows)
	day := t0.Add(2 * time.Hour).Format(time.RFC3339)
	until := t0.Add(6*time.Hour + 30*time.Second).Format(time.RFC3339Nano)
	queries := []string{
		"",
		"status=succeeded", "status=failed", "status=requires_action", "status=canceled", "status=processing",
		"payment_link=" + linkA, "payment_form=" + formA, "realm=eu", "realm=nowhere",
		"email=C3@Example.TEST", "email=nobody@example.test",
		"created_gte=" + day, "created_lt=" + until, "created_gte=" + day + "&created_lt=" + until,
		"amount_gte=500", "amount_lte=300", "amount_gte=400&amount_lte=600", "amount_gte=0&amount_lte=99999999",
		"status=succeeded&realm=eu",
		"status=failed&payment_link=" + linkB + "&amount_gte=200",
		"email=c1@example.test&created_gte=" + day + "&realm=us",
		"payment_form=" + formA + "&status=succeeded&amount_lte=700&created_lt=" + until,
		"status=succeeded&payment_link=" + linkA + "&realm=eu&email=c2@example.test&created_gte=" + day +
			"&created_lt=" + until + "&amount_gte=100&amount_lte=1000",
	}
	nonEmpty := 0
	for _, query := range queries {
		f := parse(t, query)
		exp := want(rows, f)
		if len(exp) > 0 {
			nonEmpty++
		}
		if got := pages(t, db, f, 3, nil); !cmp.Equal(exp, got, cmpEmpty) {
			t.Errorf("%q in pages of 3: %s", query, cmp.Diff(exp, got, cmpEmpty))
		}
		if got := pages(t, db, f, 100, nil); !cmp.Equal(exp, got, cmpEmpty) {
			t.Errorf("%q in pages of 100: %s", query, cmp.Diff(exp, got, cmpEmpty))
		}
	}
	if nonEmpty < len(queries)-4 {
		t.Fatalf("only %d of %d filters match anything; the dataset does not exercise them", nonEmpty, len(queries))
	}
}

var cmpEmpty = cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) })

// A creation time range is exact to the microsecond, although the index
// range it uses is by millisecond.
func TestCreatedRangeIsExact(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	at := t0.Add(123456 * time.Microsecond) // .123456
	rows := []row{
		{id: id.NewAt("pay", at.Add(-time.Microsecond)), created: at.Add(-time.Microsecond)},
		{id: id.NewAt("pay", at), created: at},
		{id: id.NewAt("pay", at.Add(time.Microsecond)), created: at.Add(time.Microsecond)},
	}
	for i := range rows {
		rows[i].merchant, rows[i].status, rows[i].amount, rows[i].email = "mer_a", "succeeded", 100, "a@example.test"
	}
	insert(t, db, rows)
	ts := at.Format(time.RFC3339Nano)
	// rows[1] and rows[2] share a millisecond, so their ids' order is random.
	if got := pages(t, db, parse(t, "created_gte="+ts), 10, nil); !slices.Equal(sorted(got), sorted([]string{rows[2].id, rows[1].id})) {
		t.Errorf("created_gte=%s: %v; want the payment at that instant and the one after", ts, got)
	}
	if got := pages(t, db, parse(t, "created_lt="+ts), 10, nil); !slices.Equal(got, []string{rows[0].id}) {
		t.Errorf("created_lt=%s: %v; want only the payment before", ts, got)
	}
}

// Payments made while a merchant pages through a filtered list neither
// appear in later pages nor push any row out or in twice.
func TestPaginationWhilePaymentsArrive(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	rows := dataset(90)
	insert(t, db, rows)
	latest := rows[len(rows)-1].created
	for _, query := range []string{"status=succeeded&realm=eu", "amount_gte=300", "created_lt=" + t0.Add(8*time.Hour).Format(time.RFC3339), ""} {
		f := parse(t, query)
		exp := want(rows, f) // what exists when the first page is read
		got := pages(t, db, f, 4, func(page int) {
			// New payments that match every filter, made after the first page.
			var arriving []row
			for i := range 3 {
				latest = latest.Add(time.Second)
				arriving = append(arriving, row{id: id.NewAt("pay", latest), merchant: "mer_a", status: "succeeded",
					realm: "eu", amount: 500, email: fmt.Sprintf("new%d@example.test", i), created: latest, brand: "visa"})
			}
			insert(t, db, arriving)
			rows = append(rows, arriving...)
		})
		if !slices.Equal(exp, got) {
			t.Errorf("%q while payments arrive: %s", query, cmp.Diff(exp, got))
		}
	}
}

func TestParseFilterRefusesMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query, code, param string
	}{
		{"status=paid", "status_invalid", "status"},
		{"payment_link=pay_123", "payment_link_invalid", "payment_link"},
		{"payment_form=plink_1", "payment_form_invalid", "payment_form"},
		{"realm=EU", "realm_invalid", "realm"},
		{"email=ada", "email_invalid", "email"},
		{"email=%40example.test", "email_invalid", "email"},
		{"created_gte=yesterday", "created_invalid", "created_gte"},
		{"created_lt=2026-11-01", "created_invalid", "created_lt"},
		{"created_gte=", "created_invalid", "created_gte"},
		{"created_gte=2026-11-01 10:00:00", "created_invalid", "created_gte"},
		{"created_lt=2026-11-01T10:00:00 25:00", "created_invalid", "created_lt"},
		{"amount_gte=19.99", "amount_invalid", "amount_gte"},
		{"amount_lte=-1", "amount_invalid", "amount_lte"},
		{"amount_lte=100000000", "amount_invalid", "amount_lte"},
		{"amount_gte=0100", "amount_invalid", "amount_gte"},
		{"amount_gte=", "amount_invalid", "amount_gte"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tc.query)
			_, err := ParseFilter(q)
			if e, ok := apperr.As(err); !ok || e.Code != tc.code || e.Param != tc.param || e.Kind != apperr.Invalid {
				t.Errorf("ParseFilter(%s) = %v; want 400 %s param %s", tc.query, err, tc.code, tc.param)
			}
		})
	}
	f := parse(t, "email=Ada@Example.Test&created_gte=2026-11-01T10:00:00%2B02:00&amount_gte=0")
	if f.Email != "ada@example.test" || !f.CreatedGTE.Equal(time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)) || *f.AmountGTE != 0 {
		t.Errorf("ParseFilter = %+v; want a lower-case e-mail, the time in UTC, amount 0", f)
	}
	// RFC 3339's lower-case t and z, and a "+02:00" sent unescaped (a
	// query string reads its + as a space), mean the same instants.
	for _, query := range []string{"created_gte=2026-11-01t08:00:00z", "created_gte=2026-11-01T10:00:00+02:00"} {
		if f := parse(t, query); !f.CreatedGTE.Equal(time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)) {
			t.Errorf("ParseFilter(%s).CreatedGTE = %v; want 2026-11-01 08:00 UTC", query, f.CreatedGTE)
		}
	}
}

func TestRefundLists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	for _, m := range []string{"mer_a", "mer_b"} {
		if _, err := db.Pool.Exec(ctx, `INSERT INTO merchants (id, name, email, password_hash) VALUES ($1, 'Shop', $1 || '@shop.test', 'x')`, m); err != nil {
			t.Fatal(err)
		}
	}
	p1, p2, other := id.NewAt("pay", t0), id.NewAt("pay", t0.Add(time.Second)), id.NewAt("pay", t0.Add(2*time.Second))
	insert(t, db, []row{
		{id: p1, merchant: "mer_a", status: "succeeded", amount: 1000, refunded: 600, email: "a@example.test", created: t0},
		{id: p2, merchant: "mer_a", status: "succeeded", amount: 1000, refunded: 100, email: "a@example.test", created: t0},
		{id: other, merchant: "mer_b", status: "succeeded", amount: 1000, refunded: 100, email: "a@example.test", created: t0},
	})
	refund := func(merchant, pay string, amount int64, reason string, at time.Time) string {
		rid := id.NewAt("re", at)
		if _, err := db.Pool.Exec(ctx, `INSERT INTO refunds (id, merchant_id, payment_id, amount, currency, status, created_at, reason)
			VALUES ($1, $2, $3, $4, 'USD', 'succeeded', $5, $6)`, rid, merchant, pay, amount, at, orNil(reason)); err != nil {
			t.Fatal(err)
		}
		return rid
	}
	r1 := refund("mer_a", p1, 500, "duplicate", t0.Add(time.Minute))
	r2 := refund("mer_a", p2, 100, "", t0.Add(2*time.Minute))
	r3 := refund("mer_a", p1, 100, "fraudulent", t0.Add(3*time.Minute))
	refund("mer_b", other, 100, "", t0.Add(4*time.Minute))

	refIDs := func(rs []*checkout.Refund) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	all, more, err := ListRefunds(ctx, db.Pool, "mer_a", "", 2, "")
	if err != nil || !more || !slices.Equal(refIDs(all), []string{r3, r2}) {
		t.Fatalf("page 1 = %v, more %v, %v; want r3, r2", refIDs(all), more, err)
	}
	rest, more, err := ListRefunds(ctx, db.Pool, "mer_a", "", 2, r2)
	if err != nil || more || !slices.Equal(refIDs(rest), []string{r1}) {
		t.Fatalf("page 2 = %v, more %v, %v; want r1", refIDs(rest), more, err)
	}
	of1, _, err := PaymentRefunds(ctx, db.Pool, "mer_a", p1, 10, "")
	if err != nil || !slices.Equal(refIDs(of1), []string{r3, r1}) {
		t.Fatalf("refunds of p1 = %v, %v; want r3, r1", refIDs(of1), err)
	}
	if w := checkout.RefundToWire(of1[0]); w.Reason == nil || *w.Reason != "fraudulent" || w.Payment != p1 || w.Amount != 100 {
		t.Errorf("wire refund = %+v", w)
	}
	got, err := GetRefund(ctx, db.Pool, "mer_a", r2)
	if err != nil || got.Reason != "" || checkout.RefundToWire(got).Reason != nil {
		t.Fatalf("GetRefund r2 = %+v, %v; want it without reason", got, err)
	}
	for _, tc := range []struct {
		name string
		err  error
		code string
	}{
		{"another merchant's refund", errOf(GetRefund(ctx, db.Pool, "mer_b", r1)), "refund_not_found"},
		{"another merchant's payment", errOf2(PaymentRefunds(ctx, db.Pool, "mer_a", other, 10, "")), "payment_not_found"},
		{"no such payment", errOf2(PaymentRefunds(ctx, db.Pool, "mer_a", id.New("pay"), 10, "")), "payment_not_found"},
		{"not a payment id", errOf2(PaymentRefunds(ctx, db.Pool, "mer_a", "x", 10, "")), "payment_not_found"},
		{"bad filter", errOf(ParsePaymentFilter("re_1")), "payment_invalid"},
	} {
		if e, ok := apperr.As(tc.err); !ok || e.Code != tc.code {
			t.Errorf("%s: %v; want %s", tc.name, tc.err, tc.code)
		}
	}
	// A payment without refunds lists none, and is not a 404.
	p3 := id.NewAt("pay", t0.Add(5*time.Second))
	insert(t, db, []row{{id: p3, merchant: "mer_a", status: "failed", amount: 1000, email: "a@example.test", created: t0}})
	if none, more, err := PaymentRefunds(ctx, db.Pool, "mer_a", p3, 10, ""); err != nil || more || len(none) != 0 {
		t.Errorf("refunds of a payment without any = %v, %v, %v; want an empty list", none, more, err)
	}
}

func errOf[T any](_ T, err error) error          { return err }
func errOf2[T any](_ T, _ bool, err error) error { return err }

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestGetMany reads several payments in one query: the merchant's, by id,
// and nothing of an id that is another merchant's or no payment.
func TestGetMany(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	rows := dataset(20)
	insert(t, db, rows)
	var mine, theirs []row
	for _, r := range rows {
		if r.merchant == "mer_a" {
			mine = append(mine, r)
		} else {
			theirs = append(theirs, r)
		}
	}
	if len(mine) < 2 || len(theirs) == 0 {
		t.Fatalf("dataset has %d payments of mer_a and %d of others; want both", len(mine), len(theirs))
	}
	got, err := GetMany(context.Background(), db.Pool, "mer_a", []string{mine[0].id, mine[1].id, theirs[0].id, id.New("pay")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[mine[0].id] == nil || got[mine[1].id] == nil ||
		got[mine[0].id].Amount.Minor != mine[0].amount || got[mine[1].id].Customer.Email != mine[1].email {
		t.Fatalf("GetMany = %v, want exactly mer_a's %s and %s as written", got, mine[0].id, mine[1].id)
	}
	if none, err := GetMany(context.Background(), db.Pool, "mer_a", nil); err != nil || len(none) != 0 {
		t.Fatalf("GetMany of no ids = %v, %v; want an empty map", none, err)
	}
}
