// Package passwordpages is the wallet's password, as its users reach it:
// changing it from the wallet page (POST /v1/wallet/password), asking for
// a reset link (POST /v1/wallet/password/forgot, /wallet/password/forgot)
// and setting a new password from the link (POST
// /v1/wallet/password/reset, /wallet/password/reset). The domain is
// package walletsecurity; the session, cookie and scripts are walletapp's.
package passwordpages

import (
	"context"
	"embed"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/httpapi/walletapp"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/wallet"
	"github.com/paylink/paylink/internal/walletsecurity"
)

// Deps is what the password routes need beside the wallet.
type Deps struct {
	Edge     *edge.Edge
	BaseURL  *url.URL
	Passkeys *passkey.Service // the step-up of a user with a passkey
	Security *walletsecurity.Service
}

// Server answers the password routes.
type Server struct {
	Deps
	wallet *walletapp.Server
	pages  map[string]*template.Template
}

//go:embed templates/*.html
var files embed.FS

// New returns the password routes of wallet, their pages parsed (they use
// the wallet's scripts and styles, which walletapp.New registered).
func New(w *walletapp.Server, d Deps) (*Server, error) {
	s := &Server{Deps: d, wallet: w, pages: map[string]*template.Template{}}
	for _, name := range []string{"wallet-forgot", "wallet-reset"} {
		var err error
		if s.pages[name], err = d.Edge.Assets().Page(name, files, "templates/"+name+".html"); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Routes are the password routes: same-origin JSON like the wallet's
// other routes; a change needs the session, asking for a link is limited
// like log-in and using one per client IP.
func (s *Server) Routes() []edge.Route {
	post := func(path string, auth edge.Auth, limit edge.Limit, doc string, h func(*gin.Context) error) edge.Route {
		return edge.Route{Method: "POST", Path: path, SameOrigin: true, Auth: auth, Limit: limit, Doc: doc, Handle: h}
	}
	page := func(path, doc, name string) edge.Route {
		return edge.Route{Method: "GET", Path: path, Doc: doc, Page: func(c *gin.Context) {
			s.Edge.Render(c, http.StatusOK, s.pages[name], "'none'", nil)
		}}
	}
	return []edge.Route{
		post("/v1/wallet/password", s.wallet.SessionAuth(), edge.PerCaller, "changeWalletPassword", s.changePassword),
		post("/v1/wallet/password/forgot", edge.Auth{}, edge.PerLogIn, "forgotWalletPassword", s.forgotPassword),
		post("/v1/wallet/password/reset", edge.Auth{}, edge.PerIPSignUp, "resetWalletPassword", s.resetPassword),
		page("/wallet/password/forgot", "walletForgotPasswordPage", "wallet-forgot"),
		page("/wallet/password/reset", "walletResetPasswordPage", "wallet-reset"),
	}
}

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
	// PasskeyAssertion is the step-up a user with a passkey needs.
	PasskeyAssertion json.RawMessage `json:"passkey_assertion"`
}

// changePassword is POST /v1/wallet/password: the current password,
// checked under the log-in's lock-out, and, for a user with a passkey,
// the passkey step-up (a password alone must not replace the password of
// an account a passkey guards) set a new one; every other session ends.
func (s *Server) changePassword(c *gin.Context) error {
	var in changePasswordRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	if err := wallet.ValidatePassword(in.NewPassword); err != nil {
		return err.(*apperr.Error).WithParam("new_password")
	}
	if in.CurrentPassword == "" {
		return walletsecurity.ErrCurrentPasswordWrong.WithMessage("Enter your current password.")
	}
	sess := walletapp.CurrentSession(c)
	err := s.Security.ChangePassword(c.Request.Context(), walletsecurity.PasswordChange{
		Session: sess, Current: in.CurrentPassword, New: in.NewPassword, ForgotURL: s.forgotURL(),
		Confirm: func(ctx context.Context, tx pgx.Tx) error {
			return s.Passkeys.ConfirmStepUp(ctx, tx, sess.User.PasskeyOwner(), passkey.ActionChangePassword,
				walletapp.StepUp(sess, in.PasskeyAssertion))
		},
	})
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, gin.H{"password_changed": true})
	return nil
}

type forgotPasswordRequest struct {
	Email string `json:"email"`
}

// forgotPassword is POST /v1/wallet/password/forgot: it e-mails a reset
// link when the address has a wallet, and answers the same either way.
// It is limited like log-in.
func (s *Server) forgotPassword(c *gin.Context) error {
	var in forgotPasswordRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	if err := s.Edge.LimitLogIn(c, in.Email); err != nil {
		return err
	}
	err := s.Security.RequestPasswordReset(c.Request.Context(), in.Email, func(token string) string {
		// In the fragment, which no request line, log or Referer carries.
		return s.BaseURL.JoinPath("wallet", "password", "reset").String() + "#token=" + token
	})
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusAccepted, gin.H{"requested": true})
	return nil
}

type resetPasswordRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// resetPassword is POST /v1/wallet/password/reset: a working link's token
// sets a new password and ends every session of its user, this
// browser's included (its cookie is cleared).
func (s *Server) resetPassword(c *gin.Context) error {
	var in resetPasswordRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	if err := s.Security.ResetPassword(c.Request.Context(), in.Token, in.Password, s.forgotURL()); err != nil {
		return err
	}
	s.wallet.ClearSessionCookie(c)
	c.PureJSON(http.StatusOK, gin.H{"password_reset": true})
	return nil
}

// forgotURL is the page that asks for a reset link.
func (s *Server) forgotURL() string {
	return s.BaseURL.JoinPath("wallet", "password", "forgot").String()
}
