package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/lockout"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/merchantauth"
)

// cookieName is the session cookie's name: with the __Host- prefix
// behind https, which browsers only accept Secure, host-only, on path /.
func (s *Server) cookieName() string {
	if s.BaseURL.Scheme == "https" {
		return "__Host-paylink_dashboard"
	}
	return "paylink_dashboard"
}

// setCookie sets the session cookie the wallet's way: HttpOnly,
// SameSite=Lax, Secure behind https, gone at the session's absolute end.
func (s *Server) setCookie(c *gin.Context, token string, exp time.Time) {
	maxAge := int(exp.Sub(s.Now()).Seconds())
	if token == "" {
		maxAge = -1
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: s.cookieName(), Value: token, Path: "/", Expires: exp, MaxAge: maxAge,
		HttpOnly: true, Secure: s.BaseURL.Scheme == "https", SameSite: http.SameSiteLaxMode})
}

// safeNext is where a log-in goes on to: a dashboard path of this site,
// never another site ("//evil.test", "/\evil.test").
func safeNext(next string) string {
	if strings.HasPrefix(next, "/dashboard") && !strings.ContainsAny(next, "\\\r\n") && !strings.HasPrefix(next, "//") {
		return next
	}
	return "/dashboard"
}

// authForm is the log-in and sign-up pages' data: what was typed (never
// the password), where to go next, and errors by field ("" for the form).
type authForm struct {
	Name, Email, Next string
	Errors            map[string]string
}

func (s *Server) loginPage(c *gin.Context) {
	if _, err := s.currentVisit(c); err == nil {
		c.Redirect(http.StatusSeeOther, safeNext(c.Query("next")))
		return
	}
	s.render(c, http.StatusOK, "login", nil, "", authForm{Next: safeNext(c.Query("next"))})
}

// login checks the e-mail and password (rate-limited per IP and e-mail,
// and locked per e-mail after repeated failures, by merchantauth) and
// starts a session.
func (s *Server) login(c *gin.Context) {
	form, err := s.Edge.ReadForm(c)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	in := authForm{Email: form.Get("email"), Next: safeNext(form.Get("next"))}
	mid, err := s.checkLogin(c, in.Email, form.Get("password"))
	if err != nil {
		var status int
		status, in.Errors = s.Failed(c, err)
		s.render(c, status, "login", nil, "", in)
		return
	}
	if err := s.StartSession(c, mid, merchantauth.MethodPassword); err != nil {
		s.ErrorPage(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, in.Next)
}

func (s *Server) checkLogin(c *gin.Context, email, pw string) (string, error) {
	if err := s.Edge.LimitLogIn(c, email); err != nil {
		return "", err
	}
	return s.Logins.CheckPassword(c.Request.Context(), email, pw)
}

// StartSession starts a session of merchantID logged in with method
// (merchantauth.MethodPassword, MethodPasskey), replacing the browser's
// previous one, and sets its cookie.
func (s *Server) StartSession(c *gin.Context, merchantID, method string) error {
	ctx := c.Request.Context()
	if old, err := c.Cookie(s.cookieName()); err == nil && old != "" {
		if err := s.Logins.Logout(ctx, old); err != nil {
			s.Log.WarnContext(ctx, "revoke replaced dashboard session", "err", err)
		}
	}
	var (
		token string
		exp   time.Time
	)
	err := s.DB.WithTx(ctx, func(tx pgx.Tx) error {
		var err error
		token, exp, err = s.Logins.Start(ctx, tx, merchantID, method, c.Request.UserAgent())
		return err
	})
	if err != nil {
		return err
	}
	s.setCookie(c, token, exp)
	return nil
}

// passkeyLoginBegin answers options for navigator.credentials.get that
// let the authenticator offer its passkeys for this site (the log-in
// page's button, or its e-mail field's autofill).
func (s *Server) passkeyLoginBegin(c *gin.Context) error {
	if err := edge.Decode(c, &struct{}{}); err != nil {
		return err
	}
	ctx := c.Request.Context()
	var out any
	err := s.DB.WithTx(ctx, func(tx pgx.Tx) error {
		a, err := s.Passkeys.BeginLogin(ctx, tx)
		out = a
		return err
	})
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, out)
	return nil
}

type passkeyLoginRequest struct {
	Credential json.RawMessage `json:"credential"`
	Next       string          `json:"next"`
}

// passkeyLoginFinish verifies the assertion (merchantauth.CheckPasskey:
// merchants' passkeys only, in the password's lock-out), starts the same
// session a password log-in does and answers where to go next.
func (s *Server) passkeyLoginFinish(c *gin.Context) error {
	var in passkeyLoginRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	mid, err := s.Logins.CheckPasskey(c.Request.Context(), s.Passkeys, in.Credential)
	if err != nil {
		return err
	}
	if err := s.StartSession(c, mid, merchantauth.MethodPasskey); err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, gin.H{"redirect": safeNext(in.Next)})
	return nil
}

func (s *Server) signUpPage(c *gin.Context) {
	s.render(c, http.StatusOK, "signup", nil, "", authForm{})
}

// signUp creates a merchant (and, as the API's sign-up does, its first
// API key, whose secret the merchant can replace in Developers) and logs
// it in. A replay of the same form (same key, same fields, password
// included) logs in the merchant the first request made.
func (s *Server) signUp(c *gin.Context) {
	form, err := s.Edge.ReadForm(c)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	in := authForm{Name: form.Get("name"), Email: form.Get("email")}
	mid, err := s.createMerchant(c, in.Name, in.Email, form.Get("password"))
	if err != nil {
		var status int
		status, in.Errors = s.Failed(c, err)
		s.render(c, status, "signup", nil, "", in)
		return
	}
	if err := s.StartSession(c, mid, merchantauth.MethodPassword); err != nil {
		s.ErrorPage(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard")
}

func (s *Server) createMerchant(c *gin.Context, name, email, pw string) (string, error) {
	su, err := merchant.ValidateSignUp(merchant.SignUp{Name: name, Email: email, Password: pw})
	if err != nil {
		return "", err
	}
	hash, err := s.Passwords.Hash(c.Request.Context(), su.Password)
	if err != nil {
		return "", err
	}
	_, body, err := s.Edge.MutateAnswer(c, "dashboard-signup", func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		m, _, err := s.Merchants.SignUp(ctx, tx, su, hash)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, map[string]string{"merchant": m.ID}, nil
	})
	if err != nil {
		return "", err
	}
	var out struct{ Merchant string }
	if err := json.Unmarshal(body, &out); err != nil {
		return "", err
	}
	return out.Merchant, nil
}

// logout ends this browser's session, or with everywhere=1 every session
// of its merchant, and clears the cookie.
func (s *Server) logout(c *gin.Context) {
	form, err := s.Edge.ReadForm(c)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	ctx := c.Request.Context()
	if form.Get("everywhere") == "1" {
		if v, err := s.currentVisit(c); err == nil {
			if _, err := s.Logins.RevokeAll(ctx, v.Merchant.ID); err != nil {
				s.ErrorPage(c, err)
				return
			}
		}
	} else if token, err := c.Cookie(s.cookieName()); err == nil && token != "" {
		if err := s.Logins.Logout(ctx, token); err != nil {
			s.ErrorPage(c, err)
			return
		}
	}
	s.setCookie(c, "", time.Unix(0, 0))
	c.Redirect(http.StatusSeeOther, "/dashboard/login?logged_out=1")
}

// Failed is the status the API answers err with and its message by the
// form field it concerns ("" for the whole form). Internal errors are
// logged once, by edge.ErrorResponse, and shown without detail. A locked
// log-in says in minutes when to try again, not in the API's words.
func (s *Server) Failed(c *gin.Context, err error) (int, map[string]string) {
	status, body := s.Edge.ErrorResponse(c, err)
	if lk := (*lockout.LockedError)(nil); errors.As(err, &lk) {
		wait := max(1, int(lk.RetryAfter(s.Now()).Seconds()))
		c.Header("Retry-After", strconv.Itoa(wait))
		body.Error.Message = "Too many failed log-ins. Try again in " + Count(int64((wait+59)/60), "minute", "minutes") + "."
	}
	return status, map[string]string{body.Error.Param: body.Error.Message}
}

// StartingAfter is the page's ?starting_after= cursor when it is an id of
// prefix, else "" (the first page): a pasted or mangled cursor starts
// the list over rather than failing the page.
func StartingAfter(c *gin.Context, prefix string) string {
	after := c.Query("starting_after")
	if !id.Valid(prefix, after) {
		return ""
	}
	return after
}

// WithQuery returns path with q as its query string.
func WithQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
