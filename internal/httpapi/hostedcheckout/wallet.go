package hostedcheckout

import (
	"context"
	"encoding/json"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/passkey"
)

// payFromWallet is POST /pay/{id} with payment_method.type "wallet": the
// shopper's wallet session pays the link in one transaction (no card, no
// processor), confirmed with their passkey when they have one; the
// answer is the checkout's, with the customer taken from the wallet user.
// The link's URL was verified and the body decoded by pay.
func (s *Server) payFromWallet(c *gin.Context, assertion json.RawMessage) error {
	sess, err := s.walletSession(c)
	if err != nil {
		return err
	}
	u := &sess.User
	scope := edge.BindPayer(c, "link:"+c.Param("id"), "user:"+u.ID)
	// A retry of a payment that went through replays its answer, even
	// though its single-use link is no longer payable.
	if replayed, err := s.edge.PrecheckIdempotency(c, scope); err != nil || replayed {
		return err
	}
	ctx := c.Request.Context()
	l, err := s.links.Open(ctx, s.db.Pool, c.Param("id"))
	if err != nil {
		return err
	}
	if err := l.Payable(s.now()); err != nil {
		return err
	}
	decision, err := s.checkout.ScreenWallet(ctx, l.Amount, walletAttempt(c, scope), checkout.Screening{
		MerchantID: l.MerchantID, IP: c.ClientIP(), Email: u.Email, Link: l.ID, Realm: l.Realm, Metadata: l.Metadata})
	if err != nil {
		return err
	}
	return s.edge.Mutate(c, scope, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		if err := s.passkeys.Confirm(ctx, tx, u.PasskeyOwner(), passkey.PaymentBinding(l.ID, l.Amount), assertion); err != nil {
			return 0, nil, err
		}
		p, err := s.checkout.RecordWalletScreened(ctx, tx, l, checkout.Customer{Email: u.Email, Name: u.DisplayName()},
			u.ID, decision)
		if err != nil {
			return 0, nil, err
		}
		status, body := s.RecordedAnswer(c, s.linkTarget(l), p)
		return status, body, nil
	})
}

// walletAttempt names a wallet payment attempt for screening's counters:
// the request's Idempotency-Key in its scope (a retry counts once), or a
// fresh id without one.
func walletAttempt(c *gin.Context, scope string) string {
	if key := c.GetHeader("Idempotency-Key"); key != "" {
		return checkout.AttemptKey(scope, key, edge.Fingerprint(c))
	}
	return id.New("att")
}

// walletOffer is the "Pay with Paylink balance" part of the checkout page.
type walletOffer struct {
	LinkID     string
	LoginURL   string // when nobody is logged in
	LoggedIn   bool
	Email      string
	Balance    string // in the link's currency
	Enough     bool
	HasPasskey bool
}

// walletOffer describes what the checkout page offers the browser's wallet
// session, if any, for paying l. A failure to read the balance only hides
// the offer: the card form still works.
func (s *Server) walletOffer(c *gin.Context, l *links.Link) *walletOffer {
	o := &walletOffer{LinkID: l.ID, LoginURL: "/wallet/login?next=" + url.QueryEscape(c.Request.URL.RequestURI())}
	sess, err := s.walletSession(c)
	if err != nil {
		return o
	}
	ctx := c.Request.Context()
	bals, err := s.wallet.Balances(ctx, s.db.Pool, sess.User.ID)
	if err != nil {
		s.log.WarnContext(ctx, "wallet balance for checkout", "err", err, "request_id", edge.RequestID(c))
		return nil
	}
	has, err := s.passkeys.Required(ctx, s.db.Pool, sess.User.ID)
	if err != nil {
		s.log.WarnContext(ctx, "wallet passkeys for checkout", "err", err, "request_id", edge.RequestID(c))
		return nil
	}
	bal := money.Amount{Currency: l.Amount.Currency}
	for _, b := range bals {
		if b.Currency == l.Amount.Currency {
			bal = b
		}
	}
	o.LoggedIn, o.Email, o.Balance, o.Enough, o.HasPasskey = true, sess.User.Email, bal.String(), bal.Minor >= l.Amount.Minor, has
	return o
}
