// Package httpapi is Paylink's HTTP server. It assembles, in one table of
// contents (New), the routes of each audience — the merchant API
// (merchantapi), the hosted checkout (hostedcheckout), the wallet
// (walletapp), the merchant dashboard and landing pages (dashboard) — on the machinery they share (edge), and serves the
// operational routes itself.
package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/forms"
	"github.com/paylink/paylink/internal/httpapi/dashboard"
	"github.com/paylink/paylink/internal/httpapi/dashboard/developerpages"
	"github.com/paylink/paylink/internal/httpapi/dashboard/formpages"
	"github.com/paylink/paylink/internal/httpapi/dashboard/linkpages"
	"github.com/paylink/paylink/internal/httpapi/dashboard/passkeypages"
	"github.com/paylink/paylink/internal/httpapi/dashboard/passwordpages"
	"github.com/paylink/paylink/internal/httpapi/dashboard/refundpages"
	"github.com/paylink/paylink/internal/httpapi/dashboard/riskpages"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/httpapi/edge/apidoc"
	"github.com/paylink/paylink/internal/httpapi/hostedcheckout"
	"github.com/paylink/paylink/internal/httpapi/hostedcheckout/sdkfiles"
	"github.com/paylink/paylink/internal/httpapi/hostedcheckout/signedpages"
	"github.com/paylink/paylink/internal/httpapi/merchantapi"
	"github.com/paylink/paylink/internal/httpapi/merchantapi/riskapi"
	"github.com/paylink/paylink/internal/httpapi/walletapp"
	walletpasswords "github.com/paylink/paylink/internal/httpapi/walletapp/passwordpages"
	"github.com/paylink/paylink/internal/idempotency"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/merchantauth"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/password"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/returnurl"
	"github.com/paylink/paylink/internal/seal"
	"github.com/paylink/paylink/internal/wallet"
	"github.com/paylink/paylink/internal/walletrisk"
	"github.com/paylink/paylink/internal/walletsecurity"
	"github.com/paylink/paylink/internal/webhook"
)

// Limits are the configured request rates.
type Limits = edge.Limits

// Deps is everything the HTTP server needs, built by run.
type Deps struct {
	Log         *slog.Logger
	DB          *postgres.DB
	Redis       *redis.Client
	Merchants   *merchant.Service
	Idempotency *idempotency.Store
	// Registry gets the HTTP metrics; the process serves it on its own
	// metrics address, never on the public one.
	Registry *prometheus.Registry
	Limits   Limits
	// Keys seals what must not be stored in the clear, such as the wallet's
	// password reset e-mails (PAYLINK_ENCRYPTION_KEYS).
	Keys           *seal.Keyring
	BaseURL        *url.URL
	TrustedProxies []string
	// RateLimitPrefix separates the limiters' Redis keys, e.g. per test.
	RateLimitPrefix string
	Now             func() time.Time
	Webhooks        *webhook.Service
	Wallet          *wallet.Service
	Passkeys        *passkey.Service
	Processor       processor.Processor
	// WalletRisk screens wallet top-ups and withdrawals (nil: not
	// screened).
	WalletRisk *walletrisk.Screener

	Links      *links.Service
	Checkout   *checkout.Service
	Currencies money.Set

	Forms *forms.Service
	// Passwords hashes sign-up passwords; the process shares one.
	Passwords *password.Hasher
	// Returns signs shoppers' returns to merchants' sites.
	Returns *returnurl.Signer
	// MerchantLogins checks dashboard passwords and keeps dashboard
	// sessions.
	MerchantLogins *merchantauth.Service
	// ExportTimeout is how long one CSV export may run (0:
	// merchantapi.DefaultExportTimeout).
	ExportTimeout time.Duration
	// RequestTimeout bounds every other request (edge.Config's; 0: none).
	RequestTimeout time.Duration
}

// Server answers every Paylink route: the merchant API, the hosted
// checkout and the wallet, on the shared edge, plus operations.
type Server struct {
	edge *edge.Edge
}

// New builds the router with every route registered.
func New(d Deps) (*Server, error) {
	e, err := edge.New(edge.Config{Log: d.Log, DB: d.DB, Redis: d.Redis, Idempotency: d.Idempotency,
		Registry: d.Registry, Limits: d.Limits, BaseURL: d.BaseURL, TrustedProxies: d.TrustedProxies,
		RateLimitPrefix: d.RateLimitPrefix, RequestTimeout: d.RequestTimeout, Now: d.Now})
	if err != nil {
		return nil, err
	}
	ops := &opsServer{edge: e, db: d.DB, redis: d.Redis}

	merchants := merchantapi.New(merchantapi.Deps{Edge: e, Log: d.Log, DB: d.DB, Merchants: d.Merchants,
		Webhooks: d.Webhooks, Links: d.Links, Checkout: d.Checkout, Forms: d.Forms, Currencies: d.Currencies,
		Now: d.Now, ExportTimeout: d.ExportTimeout, Passwords: d.Passwords})
	merchantRisk := riskapi.New(riskapi.Deps{API: merchants, Edge: e, DB: d.DB, Now: d.Now})
	wallets, err := walletapp.New(walletapp.Deps{Edge: e, Log: d.Log, DB: d.DB, BaseURL: d.BaseURL, Now: d.Now,
		Wallet: d.Wallet, Passkeys: d.Passkeys, Processor: d.Processor, Links: d.Links, Currencies: d.Currencies,
		Passwords: d.Passwords, Risk: d.WalletRisk})
	if err != nil {
		return nil, err
	}
	walletPass, err := walletpasswords.New(wallets, walletpasswords.Deps{Edge: e, BaseURL: d.BaseURL, Passkeys: d.Passkeys,
		Security: walletsecurity.New(d.DB, d.Wallet, d.Passwords, d.Keys, d.Now)})
	if err != nil {
		return nil, err
	}
	shoppers, err := hostedcheckout.New(hostedcheckout.Deps{Edge: e, Log: d.Log, DB: d.DB, BaseURL: d.BaseURL,
		Now: d.Now, Merchants: d.Merchants, Links: d.Links, Checkout: d.Checkout, Forms: d.Forms,
		Currencies: d.Currencies, Wallet: d.Wallet, Passkeys: d.Passkeys, WalletSession: wallets.SessionFromCookie,
		Returns: d.Returns})
	if err != nil {
		return nil, err
	}
	signedLinks := signedpages.New(shoppers)
	sdk, err := sdkfiles.New(e)
	if err != nil {
		return nil, err
	}

	merchantPages, err := dashboard.New(dashboard.Deps{Edge: e, Log: d.Log, DB: d.DB, BaseURL: d.BaseURL, Now: d.Now,
		Merchants: d.Merchants, Logins: d.MerchantLogins, Passwords: d.Passwords, Checkout: d.Checkout, Links: d.Links,
		Webhooks: d.Webhooks, Currencies: d.Currencies, OpenAPI: func() []byte { return ops.openAPIDoc },
		Passkeys: d.Passkeys.For(passkey.Merchants)})
	if err != nil {
		return nil, err
	}
	linkPages, err := linkpages.New(merchantPages)
	if err != nil {
		return nil, err
	}
	formPages, err := formpages.New(merchantPages, d.Forms)
	if err != nil {
		return nil, err
	}
	developerPages, err := developerpages.New(merchantPages)
	if err != nil {
		return nil, err
	}
	riskPages, err := riskpages.New(merchantPages)
	if err != nil {
		return nil, err
	}
	passkeyPages, err := passkeypages.New(merchantPages)
	if err != nil {
		return nil, err
	}
	passwordPages, err := passwordpages.New(merchantPages)
	if err != nil {
		return nil, err
	}
	refundPages, err := refundpages.New(merchantPages)
	if err != nil {
		return nil, err
	}

	// The table of contents: every route Paylink serves, by audience.
	routes := slices.Concat(
		ops.routes(),            // operations: /healthz, /readyz, /v1/openapi.json, /assets/…
		merchants.Routes(),      // merchants' backends, with an API key: /v1/…
		merchantRisk.Routes(),   // … their risk rules, lists, insights and reviews: /v1/risk/…, /v1/reviews
		shoppers.Routes(),       // shoppers' browsers: /pay/…, /embed/forms/…, /sdk/…
		signedLinks.Routes(),    // … the checkout's signed links: /pay/s…
		sdk.Routes(),            // … the JS SDK, for any site: /sdk/…
		wallets.Routes(),        // wallet users: /v1/wallet/…, /wallet
		walletPass.Routes(),     // … their password: /v1/wallet/password…, /wallet/password/…
		merchantPages.Routes(),  // merchants' browsers: /, /docs, /dashboard/… (log-in, home, payments, settings)
		linkPages.Routes(),      // … the dashboard's links: /dashboard/links/…
		formPages.Routes(),      // … the dashboard's payment forms: /dashboard/forms/…
		developerPages.Routes(), // … the dashboard's keys, webhooks and events: /dashboard/developers/…
		riskPages.Routes(),      // … the dashboard's risk: /dashboard/risk/…, /dashboard/reviews
		passkeyPages.Routes(),   // … the dashboard's passkeys: /dashboard/settings/passkeys/…
		passwordPages.Routes(),  // … the dashboard's password change and reset: /dashboard/settings/password, /dashboard/password/…
		refundPages.Routes(),    // … the dashboard's list of refunds: /dashboard/refunds
	)
	if ops.openAPIDoc, err = openAPIDoc(routes); err != nil {
		return nil, err
	}
	if err := e.Mount(routes...); err != nil {
		return nil, err
	}
	return &Server{edge: e}, nil
}

// openAPIDocs holds the OpenAPI documents built so far by what they
// depend on, the routes' declarations (the parts are compiled in): a
// process, such as a test binary, that makes many servers builds each
// document once.
var openAPIDocs sync.Map // declarations → openAPIResult

type openAPIResult struct {
	doc []byte
	err error
}

// openAPIDoc is the OpenAPI document of routes (apidoc.Build).
func openAPIDoc(routes []edge.Route) ([]byte, error) {
	var key strings.Builder
	for _, r := range routes {
		fmt.Fprintf(&key, "%s %s %s %t %s %t %s %d\n", r.Method, r.Path, r.Doc, r.Auth.Check == nil, r.Auth.Scheme,
			r.Idempotent, r.Scope, r.Limit)
	}
	if v, ok := openAPIDocs.Load(key.String()); ok {
		res := v.(openAPIResult)
		return res.doc, res.err
	}
	doc, err := apidoc.Build(routes, opsOpenAPI(), merchantapi.OpenAPI(), riskapi.OpenAPI(),
		hostedcheckout.OpenAPI(), signedpages.OpenAPI(), sdkfiles.OpenAPI(), walletapp.OpenAPI(), dashboard.OpenAPI(), formpages.OpenAPI(), developerpages.OpenAPI(), riskpages.OpenAPI(),
		passkeypages.OpenAPI(), passwordpages.OpenAPI(), refundpages.OpenAPI())
	openAPIDocs.Store(key.String(), openAPIResult{doc: doc, err: err})
	return doc, err
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.edge.Engine().ServeHTTP(w, r) }

// Routes returns "METHOD /path/{param}" for every registered route.
func (s *Server) Routes() []string { return s.edge.Routes() }
