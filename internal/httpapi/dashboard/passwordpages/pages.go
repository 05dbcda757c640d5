// Package passwordpages is the dashboard's password pages: Settings →
// Password, where a logged-in merchant changes its password (the current
// one checked as a log-in is, in the same lock-out), and the log-in
// page's "Forgot your password?", which e-mails a single-use link, valid
// an hour, to a page that sets a new one. Either change ends the
// merchant's other sessions (a reset ends all of them, then logs the
// browser in) and e-mails the merchant that its password was changed.
// Package merchantauth does the work; these are its pages.
package passwordpages

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/httpapi/dashboard"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/merchantauth"
)

// Pages answers the section's routes, in the dashboard's layout and with
// its sessions.
type Pages struct {
	*dashboard.Server
	pages map[string]*template.Template
}

//go:embed web/templates/*.html
var files embed.FS

//go:embed openapi/*.json
var openAPIFiles embed.FS

// OpenAPI is the section's part of the OpenAPI document (see apidoc.Build).
func OpenAPI() fs.FS { return openAPIFiles }

// New parses the section's pages.
func New(d *dashboard.Server) (*Pages, error) {
	pages, err := d.ParsePages(files, []string{"password-change", "password-forgot", "password-reset"})
	if err != nil {
		return nil, err
	}
	return &Pages{Server: d, pages: pages}, nil
}

// Routes are the section's pages and forms. The forms are not replayed
// by idempotency key: a password is never stored with an answer.
func (s *Pages) Routes() []edge.Route {
	get := dashboard.GetPage
	return []edge.Route{
		get("/dashboard/settings/password", "dashboardPasswordPage", s.Authed(s.changePage)),
		{Method: "POST", Path: "/dashboard/settings/password", Doc: "dashboardChangePassword", Limit: edge.PerLogIn,
			Page: s.Acting(s.change)},
		get("/dashboard/password/forgot", "dashboardForgotPasswordPage", s.forgotPage),
		{Method: "POST", Path: "/dashboard/password/forgot", Doc: "dashboardForgotPassword", Limit: edge.PerLogIn, Page: s.forgot},
		get("/dashboard/password/reset", "dashboardResetPasswordPage", s.resetPage),
		{Method: "POST", Path: "/dashboard/password/reset", Doc: "dashboardResetPassword", Limit: edge.PerIPSignUp, Page: s.reset},
	}
}

type changeData struct {
	Errors map[string]string
	Done   string // "changed" (here) or "reset" (by a link), after the redirect
}

// changePage shows the form changing the password.
func (s *Pages) changePage(c *gin.Context, v *dashboard.Visit) {
	s.RenderPage(c, http.StatusOK, s.pages["password-change"], v, "settings", changeData{Done: c.Query("done")})
}

// change checks the current password (rate-limited and locked out as a
// log-in) and sets the new one; this session stays, the others end.
func (s *Pages) change(c *gin.Context, v *dashboard.Visit, form url.Values) {
	err := s.Edge.LimitLogIn(c, v.Merchant.Email)
	if err == nil {
		err = s.Logins.ChangePassword(c.Request.Context(), v.Session, v.Merchant.Email, form.Get("current_password"), form.Get("password"))
	}
	if err != nil {
		status, errs := s.Failed(c, err)
		s.RenderPage(c, status, s.pages["password-change"], v, "settings", changeData{Errors: errs})
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/settings/password?done=changed")
}

type forgotData struct {
	Email  string
	Sent   bool
	Errors map[string]string
}

func (s *Pages) forgotPage(c *gin.Context) {
	s.RenderPage(c, http.StatusOK, s.pages["password-forgot"], nil, "", forgotData{})
}

// forgot e-mails a reset link when the address is a merchant's, and
// answers the same page either way.
func (s *Pages) forgot(c *gin.Context) {
	form, err := s.Edge.ReadForm(c)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	d := forgotData{Email: form.Get("email")}
	err = s.Edge.LimitLogIn(c, d.Email)
	if err == nil {
		reset := s.BaseURL.JoinPath("/dashboard/password/reset").String()
		err = s.Logins.RequestReset(c.Request.Context(), d.Email, reset)
	}
	if err != nil {
		var status int
		status, d.Errors = s.Failed(c, err)
		s.RenderPage(c, status, s.pages["password-forgot"], nil, "", d)
		return
	}
	d.Sent = true
	s.RenderPage(c, http.StatusOK, s.pages["password-forgot"], nil, "", d)
}

type resetData struct {
	Token   string
	Invalid string // why the link does not work
	Errors  map[string]string
}

// resetPage asks for the new password, or says why the link does not work.
func (s *Pages) resetPage(c *gin.Context) {
	d := resetData{Token: c.Query("token")}
	status := http.StatusOK
	if err := s.Logins.CheckReset(c.Request.Context(), d.Token); err != nil {
		status, d.Invalid = s.invalid(c, err)
		if status >= 500 {
			return
		}
	}
	s.RenderPage(c, status, s.pages["password-reset"], nil, "", d)
}

// reset sets the new password, ending every session of the merchant, and
// logs this browser in.
func (s *Pages) reset(c *gin.Context) {
	form, err := s.Edge.ReadForm(c)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	d := resetData{Token: form.Get("token")}
	mid, err := s.Logins.Reset(c.Request.Context(), d.Token, form.Get("password"))
	if err == nil {
		err = s.StartSession(c, mid, merchantauth.MethodPassword)
	}
	if err != nil {
		var status int
		if errors.Is(err, merchantauth.ErrResetLinkInvalid) {
			if status, d.Invalid = s.invalid(c, err); status >= 500 {
				return
			}
		} else {
			status, d.Errors = s.Failed(c, err)
		}
		s.RenderPage(c, status, s.pages["password-reset"], nil, "", d)
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/settings/password?done=reset")
}

// invalid is the status and message of a reset link that does not work;
// any other error is answered as an error page (status 500 and up).
func (s *Pages) invalid(c *gin.Context, err error) (int, string) {
	if !errors.Is(err, merchantauth.ErrResetLinkInvalid) {
		s.ErrorPage(c, err)
		return http.StatusInternalServerError, ""
	}
	status, errs := s.Failed(c, err)
	return status, errs[""]
}
