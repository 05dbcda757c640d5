// Package walletapp is the wallet, as its users reach it: the
// /v1/wallet JSON API (sign-up, log-in with a password or a passkey, the
// session cookie, balances, top-ups, transfers, history, notifications,
// passkeys and their confirmations) and the wallet's pages (/wallet). It
// owns those routes, their handlers, request types, templates and
// scripts. Paying a checkout link from the wallet is the hosted
// checkout's route; it reads the session with SessionFromCookie.
package walletapp

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/password"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/wallet"
	"github.com/paylink/paylink/internal/walletrisk"
)

// Deps is what the wallet needs.
type Deps struct {
	Edge       *edge.Edge
	Log        *slog.Logger
	DB         *postgres.DB
	BaseURL    *url.URL
	Now        func() time.Time
	Wallet     *wallet.Service
	Passkeys   *passkey.Service
	Processor  processor.Processor // top-ups by card
	Links      *links.Service      // what a payment confirmation binds
	Currencies money.Set
	Passwords  *password.Hasher // sign-up passwords
	// Risk screens top-ups and withdrawals before the processor is asked
	// (nil: they are not screened).
	Risk *walletrisk.Screener
}

// Server answers the wallet's routes.
type Server struct {
	edge       *edge.Edge
	log        *slog.Logger
	db         *postgres.DB
	baseURL    *url.URL
	now        func() time.Time
	wallet     *wallet.Service
	passkeys   *passkey.Service
	processor  processor.Processor
	links      *links.Service
	currencies money.Set
	passwords  *password.Hasher
	risk       *walletrisk.Screener
	pages      map[string]*template.Template
}

// New returns the wallet, its pages parsed and its scripts and styles
// registered with the edge's assets.
func New(d Deps) (*Server, error) {
	s := &Server{edge: d.Edge, log: d.Log, db: d.DB, baseURL: d.BaseURL, now: d.Now, wallet: d.Wallet,
		passkeys: d.Passkeys, processor: d.Processor, links: d.Links, currencies: d.Currencies, passwords: d.Passwords,
		risk: d.Risk}
	var err error
	if s.pages, err = parsePages(d.Edge.Assets()); err != nil {
		return nil, err
	}
	return s, nil
}

//go:embed openapi/*.json
var openAPIFiles embed.FS

// OpenAPI is the OpenAPI part of the wallet (see apidoc.Build).
func OpenAPI() fs.FS { return openAPIFiles }

// Routes are the wallet's routes. Every state-changing request is
// same-origin JSON (checked before anything else); the routes after
// log-in need the session cookie and are counted per user.
func (s *Server) Routes() []edge.Route {
	session := s.SessionAuth()
	public := func(path string, limit edge.Limit, idempotent bool, doc string, h func(*gin.Context) error) edge.Route {
		return edge.Route{Method: "POST", Path: path, SameOrigin: true, Limit: limit, Idempotent: idempotent, Doc: doc, Handle: h}
	}
	user := func(method, path string, idempotent bool, doc string, h func(*gin.Context) error) edge.Route {
		return edge.Route{Method: method, Path: path, SameOrigin: method != "GET", Auth: session, Limit: edge.PerCaller,
			Idempotent: idempotent, Doc: doc, Handle: h}
	}
	page := func(path, doc string, h gin.HandlerFunc) edge.Route {
		return edge.Route{Method: "GET", Path: path, Doc: doc, Page: h}
	}
	const (
		idempotent = true
		plain      = false
	)
	return append([]edge.Route{
		public("/v1/wallet/signup", edge.PerIPSignUp, idempotent, "walletSignUp", s.walletSignUp),
		public("/v1/wallet/login", edge.PerLogIn, plain, "walletLogIn", s.walletLogin),
		public("/v1/wallet/logout", edge.Unlimited, plain, "walletLogOut", s.walletLogout),
		public("/v1/wallet/passkeys/login/begin", edge.PerIPSignUp, plain, "beginPasskeyLogIn", s.passkeyLoginBegin),
		public("/v1/wallet/passkeys/login/finish", edge.PerIPSignUp, plain, "finishPasskeyLogIn", s.passkeyLoginFinish),

		user("GET", "/v1/wallet/account", plain, "getWalletAccount", s.walletAccount),
		user("POST", "/v1/wallet/topup", idempotent, "walletTopUp", s.walletTopUp),
		user("POST", "/v1/wallet/transfers", idempotent, "walletTransfer", s.walletTransfer),
		user("POST", "/v1/wallet/withdrawals", idempotent, "walletWithdraw", s.walletWithdraw),
		user("POST", "/v1/wallet/topups/:id/challenge", idempotent, "answerTopUpChallenge", s.answerTopUpChallenge),
		// next_action.url takes the answer too, as a checkout challenge's does.
		user("POST", "/wallet/topups/:id/challenge", idempotent, "answerTopUpChallengeAtPage", s.answerTopUpChallenge),
		user("GET", "/v1/wallet/transactions", plain, "listWalletTransactions", s.listWalletTransactions),
		user("GET", "/v1/wallet/transactions/:id", plain, "getWalletTransaction", s.getWalletTransaction),
		user("GET", "/v1/wallet/notifications", plain, "listWalletNotifications", s.listNotifications),
		user("POST", "/v1/wallet/notifications/:id/read", idempotent, "readWalletNotification", s.readNotification),
		user("POST", "/v1/wallet/notifications/read_all", idempotent, "readAllWalletNotifications", s.readAllNotifications),
		user("GET", "/v1/wallet/passkeys", plain, "listPasskeys", s.listPasskeys),
		user("PATCH", "/v1/wallet/passkeys/:id", plain, "renamePasskey", s.renamePasskey),
		user("DELETE", "/v1/wallet/passkeys/:id", plain, "deletePasskey", s.deletePasskey),
		user("POST", "/v1/wallet/passkeys/register/begin", idempotent, "beginPasskeyRegistration", s.passkeyRegisterBegin),
		user("POST", "/v1/wallet/passkeys/register/finish", idempotent, "finishPasskeyRegistration", s.passkeyRegisterFinish),
		user("POST", "/v1/wallet/passkeys/confirm/begin", idempotent, "beginPasskeyConfirmation", s.passkeyConfirmBegin),

		page("/wallet", "walletPage", s.walletPage),
		page("/wallet/login", "walletLogInPage", s.walletLoginPage),
		page("/wallet/signup", "walletSignUpPage", s.walletSignUpPage),
		page("/wallet/topups/:id/challenge", "walletTopUpChallengePage", s.topUpChallengePage),
	}, s.seedRoutes(session)...)
}

// The wallet's pages are templates/*.html in the shared layout, with
// static/wallet.js and wallet.css.
//
//go:embed templates/*.html static/*
var files embed.FS

// parsePages parses every page of templates/, by its file name without
// .html, and registers static/ with assets.
func parsePages(assets *edge.Assets) (map[string]*template.Template, error) {
	if err := assets.Add(files, "static"); err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"wallet", "wallet-login", "wallet-signup", "wallet-challenge"} {
		var err error
		if pages[name], err = assets.Page(name, files, "templates/"+name+".html"); err != nil {
			return nil, err
		}
	}
	return pages, nil
}
