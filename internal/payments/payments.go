// Package payments finds a merchant's payments and refunds: the filters
// of GET /v1/payments (status, link, form, realm, customer e-mail,
// creation time and amount ranges, combined), cursor pages under any of
// them, the CSV export streamed from a PostgreSQL cursor, and the refund
// lists.
//
// It only reads. Package checkout creates and changes payments and
// refunds; this package reads payment rows through checkout.PaymentRows
// and checkout.ScanPayment, so a payment is read one way everywhere.
//
// # Pages and indexes
//
// Every list is newest first, ORDER BY id DESC, and the next page is
// id < starting_after. Ids sort by creation time (package id), so a
// payment made while a merchant pages through a list sorts before the
// first page and never shifts a later one: no row is lost or repeated.
// Each filter has an index that starts with the merchant and ends with
// the id (migration 0022), so one page is one index range at any table
// size; a creation time range is turned into an id range (id.Floor) plus
// the exact time condition. A status is written into the SQL as a
// literal (it is one of five known words), so PostgreSQL can use the
// partial status index whatever the plan cache does.
package payments

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/forms"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
)

// Errors of malformed filters; each names its query parameter.
var (
	ErrEmailInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "email_invalid", Param: "email",
		Message: "email must be a whole e-mail address; it matches the customer's exactly, in any case."}
	ErrCreatedInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "created_invalid", Param: "created_gte",
		Message: "created_gte and created_lt must be RFC 3339 times, like 2026-11-22T10:00:00Z."}
	ErrAmountInvalid = &apperr.Error{Kind: apperr.Invalid, Code: "amount_invalid", Param: "amount_gte",
		Message: "amount_gte and amount_lte must be whole numbers of the currency's minor unit from 0 to 99999999."}
)

// Filter narrows a list of payments; zero fields match every payment.
// CreatedGTE and CreatedLT bound the creation time (from, inclusive; to,
// exclusive); AmountGTE and AmountLTE the amount in minor units (both
// inclusive), whatever the currency.
type Filter struct {
	Status     checkout.Status
	LinkID     string
	FormID     string
	Realm      string
	Email      string // lower-case
	CreatedGTE *time.Time
	CreatedLT  *time.Time
	AmountGTE  *int64
	AmountLTE  *int64
	// Currency keeps only payments in it ("" any); the dashboard sets it
	// with an amount range typed in that currency's units.
	Currency money.Currency
}

// FilterParams are the query parameters ParseFilter reads.
var FilterParams = []string{"status", "payment_link", "payment_form", "realm", "email", "created_gte", "created_lt",
	"amount_gte", "amount_lte"}

// ParseFilter reads the filters of GET /v1/payments and of the CSV export
// from a query string: status, payment_link, payment_form, realm, email,
// created_gte, created_lt, amount_gte, amount_lte. Other parameters are
// left to the caller. It returns, naming the parameter,
// checkout.ErrStatusInvalid, checkout.ErrLinkFilterInvalid,
// forms.ErrFilterInvalid, links.ErrRealmInvalid, ErrEmailInvalid,
// ErrCreatedInvalid or ErrAmountInvalid.
func ParseFilter(q url.Values) (Filter, error) {
	f := Filter{Status: checkout.Status(q.Get("status")), LinkID: q.Get("payment_link"), FormID: q.Get("payment_form")}
	switch f.Status {
	case "", checkout.RequiresAction, checkout.Processing, checkout.Succeeded, checkout.Failed, checkout.Canceled:
	default:
		return Filter{}, checkout.ErrStatusInvalid
	}
	if f.LinkID != "" && !id.Valid("plink", f.LinkID) {
		return Filter{}, checkout.ErrLinkFilterInvalid
	}
	if f.FormID != "" && !id.Valid("pform", f.FormID) {
		return Filter{}, forms.ErrFilterInvalid
	}
	var err error
	if f.Realm, err = links.CheckRealm(q.Get("realm")); err != nil {
		return Filter{}, err
	}
	if e := q.Get("email"); e != "" {
		if f.Email, err = merchant.NormalizeEmail(e); err != nil {
			return Filter{}, ErrEmailInvalid
		}
	}
	if f.CreatedGTE, err = parseTime(q, "created_gte"); err != nil {
		return Filter{}, err
	}
	if f.CreatedLT, err = parseTime(q, "created_lt"); err != nil {
		return Filter{}, err
	}
	if f.AmountGTE, err = parseAmount(q, "amount_gte"); err != nil {
		return Filter{}, err
	}
	if f.AmountLTE, err = parseAmount(q, "amount_lte"); err != nil {
		return Filter{}, err
	}
	return f, nil
}

func parseTime(q url.Values, name string) (*time.Time, error) {
	s, ok := q[name]
	if !ok {
		return nil, nil
	}
	// RFC 3339 allows a lower-case t and z; and a "+01:00" offset sent
	// unescaped in a query string arrives as " 01:00".
	v := strings.ToUpper(s[0])
	t, err := time.Parse(time.RFC3339Nano, v)
	if i := strings.LastIndexByte(v, ' '); err != nil && i > len("2006-01-02T15:04:05")-1 {
		t, err = time.Parse(time.RFC3339Nano, v[:i]+"+"+v[i+1:])
	}
	if err != nil || t.Year() < 1970 {
		return nil, ErrCreatedInvalid.WithParam(name)
	}
	t = t.UTC()
	return &t, nil
}

func parseAmount(q url.Values, name string) (*int64, error) {
	s, ok := q[name]
	if !ok {
		return nil, nil
	}
	n, err := strconv.ParseInt(s[0], 10, 64)
	if err != nil || n < 0 || n > money.MaxMinor || strconv.FormatInt(n, 10) != s[0] {
		return nil, ErrAmountInvalid.WithParam(name)
	}
	return &n, nil
}

// Search returns up to limit payments of merchantID matching f and older
// than startingAfter (all when empty), newest first, and whether more
// follow.
func Search(ctx context.Context, db postgres.DBTX, merchantID string, f Filter, limit int, startingAfter string) ([]*checkout.Payment, bool, error) {
	q := f.page(merchantID, startingAfter, limit+1)
	out, more, err := postgres.PageOf(ctx, db, limit, func(r pgx.CollectableRow) (*checkout.Payment, error) {
		return checkout.ScanPayment(r)
	}, q.sql, q.args...)
	if err != nil {
		return nil, false, fmt.Errorf("search payments: %w", err)
	}
	return out, more, nil
}

// GetMany returns those of payIDs that are merchantID's payments, by id,
// in one query (a page of reviews, say, shows each one's payment).
func GetMany(ctx context.Context, db postgres.DBTX, merchantID string, payIDs []string) (map[string]*checkout.Payment, error) {
	out := make(map[string]*checkout.Payment, len(payIDs))
	if len(payIDs) == 0 {
		return out, nil
	}
	rows, err := db.Query(ctx, checkout.PaymentRows+`WHERE p.merchant_id = $1 AND p.id = ANY($2)`, merchantID, payIDs)
	if err != nil {
		return nil, fmt.Errorf("read payments: %w", err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*checkout.Payment, error) { return checkout.ScanPayment(r) })
	if err != nil {
		return nil, fmt.Errorf("read payments: %w", err)
	}
	for _, p := range ps {
		out[p.ID] = p
	}
	return out, nil
}

// query is a payment list's SQL and its arguments.
type query struct {
	sql  string
	args []any
}

// arg adds v and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// query builds the SQL of f with only the conditions f sets, so each
// combination of filters is a plain statement PostgreSQL plans with its
// indexes.
func (f Filter) query(merchantID, startingAfter string) query {
	q := query{}
	q.sql = checkout.PaymentRows + "WHERE " + f.where(&q, merchantID, startingAfter) + " ORDER BY p.id DESC"
	return q
}

// page builds the SQL of a page of up to rows payments matching f. The
// first page finds the page's ids first, then their rows: asked for whole
// rows, PostgreSQL may walk the primary key back from the newest payment,
// filtering on the merchant, which reads every newer payment of every
// other merchant first (65 ms against 2.2 ms for a big merchant behind
// 30,000 newer payments of another). A later page starts inside the
// merchant's own index range, and reads its rows directly: the id-first
// form would read the primary key again for each row (17 times the
// buffers of a 100-row page).
func (f Filter) page(merchantID, startingAfter string, rows int) query {
	if startingAfter != "" {
		q := f.query(merchantID, startingAfter)
		q.sql += " LIMIT " + f.limit(&q, rows)
		return q
	}
	q := query{}
	where := f.where(&q, merchantID, "")
	q.sql = "WITH page AS (SELECT p.id FROM payments p WHERE " + where + " ORDER BY p.id DESC LIMIT " + f.limit(&q, rows) +
		") " + checkout.PagePaymentRows + "ORDER BY p.id DESC"
	return q
}

// limit returns the LIMIT of a page of rows payments matching f. It is a
// literal, so that after its first five runs PostgreSQL keeps one generic
// plan for the statement: with a parameter there, each run was planned
// anew, which cost more than running it (0.5 ms of planning against 0.13
// ms for a first page at 10 million payments; BENCHMARKS.md). A
// statement whose conditions pin an index range plans the same for any
// values. An amount range does not: how many payments it keeps decides
// between the amount index and the id order, so with one the limit stays
// a parameter and each run is planned for its values.
func (f Filter) limit(q *query, rows int) string {
	if f.AmountGTE != nil || f.AmountLTE != nil {
		return q.arg(rows)
	}
	return strconv.Itoa(rows)
}

// where returns the conditions of f for merchantID's payments older than
// startingAfter, adding their arguments to q.
func (f Filter) where(q *query, merchantID, startingAfter string) string {
	where := []string{"p.merchant_id = " + q.arg(merchantID)}
	if startingAfter != "" {
		where = append(where, "p.id < "+q.arg(startingAfter))
	}
	if f.Status != "" {
		where = append(where, "p.status = '"+string(f.Status)+"'") // one of five known words
	}
	if f.LinkID != "" {
		where = append(where, "p.payment_link_id = "+q.arg(f.LinkID))
	}
	if f.FormID != "" {
		where = append(where, "p.payment_form_id = "+q.arg(f.FormID))
	}
	if f.Realm != "" {
		where = append(where, "p.realm = "+q.arg(f.Realm))
	}
	if f.Email != "" {
		where = append(where, "lower(p.customer_email) = "+q.arg(f.Email))
	}
	// A payment's id carries its creation millisecond, so a time range is
	// first an id range (the index), then the exact time.
	if t := f.CreatedGTE; t != nil {
		where = append(where, "p.id >= "+q.arg(id.Floor("pay", *t)), "p.created_at >= "+q.arg(*t))
	}
	if t := f.CreatedLT; t != nil {
		next := time.UnixMilli(t.UnixMilli() + 1)
		where = append(where, "p.id < "+q.arg(id.Floor("pay", next)), "p.created_at < "+q.arg(*t))
	}
	if f.AmountGTE != nil {
		where = append(where, "p.amount >= "+q.arg(*f.AmountGTE))
	}
	if f.AmountLTE != nil {
		where = append(where, "p.amount <= "+q.arg(*f.AmountLTE))
	}
	if f.Currency != "" {
		where = append(where, "p.currency = "+q.arg(string(f.Currency)))
	}
	return strings.Join(where, " AND ")
}
