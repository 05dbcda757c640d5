// Package dashboard is the merchant dashboard, as merchants reach it in a
// browser: the landing page (/), the API reference (/docs), and /dashboard
// (sign-up, log-in with e-mail and password or a passkey, home, payments
// and refunds, settings). Pages are server-rendered from web/templates, embedded in the
// binary; forms are plain HTML POSTs, each carrying a fresh
// Idempotency-Key, checked for their origin (edge.ReadForm) and acting
// through the same domain services as the merchant API.
//
// A dashboard session (package merchantauth) names one merchant; every
// read and write here is scoped by that merchant's id, exactly as the
// API scopes by the key's merchant.
package dashboard

import (
	"crypto/rand"
	"embed"
	"encoding/base64"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/merchantauth"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/password"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/webhook"
)

// Deps is what the dashboard needs.
type Deps struct {
	Edge      *edge.Edge
	Log       *slog.Logger
	DB        *postgres.DB
	BaseURL   *url.URL
	Now       func() time.Time
	Merchants *merchant.Service
	Logins    *merchantauth.Service
	// Passkeys are the merchants' passkeys (passkey.Merchants).
	Passkeys   *passkey.Service
	Passwords  *password.Hasher
	Checkout   *checkout.Service
	Links      *links.Service
	Webhooks   *webhook.Service
	Currencies money.Set
	// OpenAPI returns the API's OpenAPI document, rendered at /docs.
	OpenAPI func() []byte
}

// Server answers the dashboard's routes.
type Server struct {
	Deps
	pages map[string]*template.Template
}

//go:embed web/templates/*.html web/static/*
var files embed.FS

//go:embed openapi/*.json
var openAPIFiles embed.FS

// OpenAPI is the OpenAPI part of the dashboard (see apidoc.Build).
func OpenAPI() fs.FS { return openAPIFiles }

// pageNames are the templates of web/templates, each rendered in
// web/templates/layout.html.
var pageNames = []string{"landing", "docs", "login", "signup", "home", "payments", "payment", "refund-confirm", "settings", "error"}

// New returns the dashboard with its pages parsed and its scripts and
// styles registered with the edge's assets.
func New(d Deps) (*Server, error) {
	s := &Server{Deps: d, pages: map[string]*template.Template{}}
	a := d.Edge.Assets()
	if err := a.Add(files, "web/static"); err != nil {
		return nil, err
	}
	for _, name := range pageNames {
		t, err := a.PageWithFuncs(name, funcs, files, "web/templates/layout.html", "web/templates/partials.html",
			"web/templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		s.pages[name] = t
	}
	return s, nil
}

// Routes are the dashboard's routes. Pages answer by themselves (HTML,
// redirects to the log-in page, CSV); every POST is a form that
// edge.ReadForm checks first.
func (s *Server) Routes() []edge.Route {
	get, post := GetPage, PostForm
	return []edge.Route{
		get("/", "landingPage", s.landing),
		get("/docs", "docsPage", s.docs),

		get("/dashboard/login", "dashboardLogInPage", s.loginPage),
		{Method: "POST", Path: "/dashboard/login", Doc: "dashboardLogIn", Limit: edge.PerLogIn, Page: s.login},
		{Method: "POST", Path: "/dashboard/login/passkey/begin", Doc: "dashboardBeginPasskeyLogIn", Limit: edge.PerIPSignUp,
			SameOrigin: true, Handle: s.passkeyLoginBegin},
		{Method: "POST", Path: "/dashboard/login/passkey/finish", Doc: "dashboardFinishPasskeyLogIn", Limit: edge.PerIPSignUp,
			SameOrigin: true, Handle: s.passkeyLoginFinish},
		get("/dashboard/signup", "dashboardSignUpPage", s.signUpPage),
		post("/dashboard/signup", "dashboardSignUp", edge.PerIPSignUp, s.signUp),
		{Method: "POST", Path: "/dashboard/logout", Doc: "dashboardLogOut", Page: s.logout},

		get("/dashboard", "dashboardHome", s.Authed(s.home)),
		get("/dashboard/payments", "dashboardPayments", s.Authed(s.payments)),
		edge.Streaming(get("/dashboard/payments.csv", "dashboardPaymentsCSV", s.Authed(s.paymentsCSV))),
		get("/dashboard/payments/:id", "dashboardPayment", s.Authed(s.payment)),
		get("/dashboard/payments/:id/refund", "dashboardRefundConfirm", s.Authed(s.refundConfirm)),
		post("/dashboard/payments/:id/refund", "dashboardRefund", edge.PerIPCheckout, s.Acting(s.refund)),
		post("/dashboard/events/:id/redeliver", "dashboardRedeliver", edge.PerIPCheckout, s.Acting(s.redeliver)),

		get("/dashboard/settings", "dashboardSettings", s.Authed(s.settings)),
		post("/dashboard/settings", "dashboardSaveSettings", edge.PerIPCheckout, s.Acting(s.saveSettings)),
		post("/dashboard/settings/sessions/:id/revoke", "dashboardRevokeSession", edge.PerIPCheckout, s.Acting(s.revokeSession)),
	}
}

// Visit is one request of a logged-in merchant: the session and its merchant.
type Visit struct {
	Session  *merchantauth.Session
	Merchant *merchant.Merchant
}

// view is what every page's template gets: the page's own data and, when
// logged in, the merchant (for the navigation).
type view struct {
	Merchant *merchant.Merchant
	Nav      string // the section the page belongs to
	Data     any
}

// Authed answers a GET page for a logged-in merchant; without a live
// session the browser is sent to log in and come back.
func (s *Server) Authed(h func(*gin.Context, *Visit)) gin.HandlerFunc {
	return func(c *gin.Context) {
		v, err := s.currentVisit(c)
		if err != nil {
			s.toLogin(c, c.Request.URL.RequestURI())
			return
		}
		h(c, v)
	}
}

// Acting answers a form POST of a logged-in merchant: the form's origin
// is checked and the form read first (edge.ReadForm), then the session.
func (s *Server) Acting(h func(*gin.Context, *Visit, url.Values)) gin.HandlerFunc {
	return func(c *gin.Context) {
		form, err := s.Edge.ReadForm(c)
		if err != nil {
			s.ErrorPage(c, err)
			return
		}
		v, err := s.currentVisit(c)
		if err != nil {
			s.toLogin(c, "")
			return
		}
		h(c, v, form)
	}
}

// currentVisit authenticates the session cookie and loads its merchant.
func (s *Server) currentVisit(c *gin.Context) (*Visit, error) {
	token, err := c.Cookie(s.cookieName())
	if err != nil || token == "" {
		return nil, merchantauth.ErrLoginRequired
	}
	ctx := c.Request.Context()
	sess, err := s.Logins.Authenticate(ctx, token)
	if err != nil {
		return nil, err
	}
	m, err := s.Merchants.Get(ctx, s.DB.Pool, sess.MerchantID)
	if err != nil {
		return nil, err
	}
	return &Visit{Session: sess, Merchant: m}, nil
}

// toLogin sends the browser to the log-in page, to come back to next.
func (s *Server) toLogin(c *gin.Context, next string) {
	target := "/dashboard/login"
	if safeNext(next) != "/dashboard" {
		target += "?next=" + url.QueryEscape(next)
	}
	c.Redirect(http.StatusSeeOther, target)
}

// render answers page name with the security headers every page carries.
func (s *Server) render(c *gin.Context, status int, name string, v *Visit, nav string, data any) {
	s.RenderPage(c, status, s.pages[name], v, nav, data)
}

// RenderPage answers page (parsed by ParsePage) in the dashboard's layout,
// with nav the section of the navigation it belongs to and the security
// headers every page carries.
func (s *Server) RenderPage(c *gin.Context, status int, page *template.Template, v *Visit, nav string, data any) {
	s.Edge.Render(c, status, page, "'none'", viewOf(v, nav, data))
}

// RenderFramingPage is RenderPage for a page that frames a page of this
// origin (a payment form's preview): its CSP adds frame-src 'self'.
func (s *Server) RenderFramingPage(c *gin.Context, status int, page *template.Template, v *Visit, nav string, data any) {
	s.Edge.RenderFramingSelf(c, status, page, "'none'", viewOf(v, nav, data))
}

func viewOf(v *Visit, nav string, data any) view {
	vw := view{Nav: nav, Data: data}
	if v != nil {
		vw.Merchant = v.Merchant
	}
	return vw
}

// ParsePages parses a section's pages: for each name, the dashboard's
// layout and partials with the dashboard's template functions (money,
// when, idemKey, …), web/templates/NAME.html of section, and the shared
// files of section (templates its pages use in common), by name.
func (s *Server) ParsePages(section fs.FS, names []string, shared ...string) (map[string]*template.Template, error) {
	pages := make(map[string]*template.Template, len(names))
	for _, name := range names {
		t, err := s.Edge.Assets().PageWithFuncs(name, funcs, files, "web/templates/layout.html", "web/templates/partials.html")
		if err != nil {
			return nil, err
		}
		if pages[name], err = t.ParseFS(section, append([]string{"web/templates/" + name + ".html"}, shared...)...); err != nil {
			return nil, err
		}
	}
	return pages, nil
}

// GetPage declares a GET page of the dashboard.
func GetPage(path, doc string, h gin.HandlerFunc) edge.Route {
	return edge.Route{Method: "GET", Path: path, Doc: doc, Page: h}
}

// PostForm declares a form POST of the dashboard: idempotent (the form's
// idempotency_key), with limit as its rate-limit class.
func PostForm(path, doc string, limit edge.Limit, h gin.HandlerFunc) edge.Route {
	return edge.Route{Method: "POST", Path: path, Doc: doc, Limit: limit, Idempotent: true, Page: h}
}

// ErrorPage renders err as a page with the status the API would answer.
func (s *Server) ErrorPage(c *gin.Context, err error) {
	status, body := s.Edge.ErrorResponse(c, err)
	s.render(c, status, "error", nil, "", body.Error)
}

// newIdempotencyKey is a fresh key for one rendered form.
func newIdempotencyKey() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return "dash_" + base64.RawURLEncoding.EncodeToString(b)
}
