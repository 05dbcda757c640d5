package walletapp

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/wallet"
	"github.com/paylink/paylink/internal/wire"
)

const walletSessionKey = "paylink.wallet_session"

// sessionCookie is the cookie's name: with the __Host- prefix behind
// https, which browsers only accept Secure, host-only and on path /.
func (s *Server) sessionCookie() string {
	if s.baseURL.Scheme == "https" {
		return "__Host-paylink_session"
	}
	return "paylink_session"
}

func (s *Server) setSessionCookie(c *gin.Context, token string, exp time.Time) {
	http.SetCookie(c.Writer, &http.Cookie{Name: s.sessionCookie(), Value: token, Path: "/", Expires: exp,
		MaxAge: int(time.Until(exp).Seconds()), HttpOnly: true, Secure: s.baseURL.Scheme == "https", SameSite: http.SameSiteLaxMode})
}

// ClearSessionCookie tells the browser to drop its session cookie.
func (s *Server) ClearSessionCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{Name: s.sessionCookie(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.baseURL.Scheme == "https", SameSite: http.SameSiteLaxMode})
}

// SessionAuth is the wallet API's authentication: the session cookie
// log-in sets.
func (s *Server) SessionAuth() edge.Auth {
	return edge.Auth{Name: "wallet session", Scheme: "walletSession", Check: s.checkSession}
}

// checkSession authenticates the session cookie and puts the session in
// the context.
func (s *Server) checkSession(c *gin.Context) (edge.Caller, error) {
	sess, err := s.SessionFromCookie(c)
	if err != nil {
		return edge.Caller{}, err
	}
	c.Set(walletSessionKey, sess)
	return edge.Caller{RateKey: "user:" + sess.User.ID}, nil
}

// SessionFromCookie returns the live session of the request's cookie, or
// wallet.ErrLoginRequired. The hosted checkout uses it to pay a link from
// the wallet.
func (s *Server) SessionFromCookie(c *gin.Context) (*wallet.Session, error) {
	token, err := c.Cookie(s.sessionCookie())
	if err != nil || token == "" {
		return nil, wallet.ErrLoginRequired
	}
	return s.wallet.Authenticate(c.Request.Context(), token)
}

// CurrentSession returns the session SessionAuth found.
func CurrentSession(c *gin.Context) *wallet.Session {
	return c.MustGet(walletSessionKey).(*wallet.Session)
}

type walletSignUpRequest struct {
	Email      string `json:"email"`
	Password   string `json:"password"`
	FirstName  string `json:"first_name"`
	MiddleName string `json:"middle_name"`
	LastName   string `json:"last_name"`
	Phone      string `json:"phone"`
}

type userResponse struct {
	User wire.User `json:"user"`
}

// walletSignUp creates a wallet user. Like the merchant sign-up, its
// Idempotency-Key scope is shared by anonymous callers and a replay needs
// the identical body, password included.
func (s *Server) walletSignUp(c *gin.Context) error {
	return s.signUp(c, func(u *wallet.User) any { return userResponse{User: u.ToWire(false)} })
}

// signUp creates the user the request's body describes and answers
// answer(user), 201.
func (s *Server) signUp(c *gin.Context, answer func(*wallet.User) any) error {
	var in walletSignUpRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	su, err := wallet.ValidateSignUp(wallet.SignUp{Email: in.Email, Password: in.Password, FirstName: in.FirstName,
		MiddleName: in.MiddleName, LastName: in.LastName, Phone: in.Phone})
	if err != nil {
		return err
	}
	hash, err := s.passwords.Hash(c.Request.Context(), su.Password)
	if err != nil {
		return err
	}
	return s.edge.Mutate(c, "wallet-signup", func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		u, err := s.wallet.CreateUser(ctx, tx, su, hash)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, answer(u), nil
	})
}

type walletLoginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// walletLogin checks a password and starts a session. Attempts are
// limited per client IP and e-mail and per IP (Redis), and an e-mail is
// locked after repeated failures (PostgreSQL, package lockout); a lock's
// Retry-After comes from edge.WriteError.
func (s *Server) walletLogin(c *gin.Context) error {
	u, err := s.checkPassword(c)
	if err != nil {
		return err
	}
	return s.logIn(c, u, wallet.MethodPassword)
}

// checkPassword reads a log-in request and returns its user if the
// password is right, counting the attempt.
func (s *Server) checkPassword(c *gin.Context) (*wallet.User, error) {
	var in walletLoginRequest
	if err := edge.Decode(c, &in); err != nil {
		return nil, err
	}
	if err := s.edge.LimitLogIn(c, in.Email); err != nil {
		return nil, err
	}
	return s.wallet.CheckPassword(c.Request.Context(), in.Email, in.Password)
}

// logIn starts a session for u, replacing the request's previous one, and
// answers the user with the session cookie.
func (s *Server) logIn(c *gin.Context, u *wallet.User, method string) error {
	has, err := s.startSession(c, u, method)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, userResponse{User: u.ToWire(has)})
	return nil
}

// startSession starts a session for u, replacing the request's previous
// one, sets its cookie, and says whether u has a passkey.
func (s *Server) startSession(c *gin.Context, u *wallet.User, method string) (bool, error) {
	ctx := c.Request.Context()
	if old, err := c.Cookie(s.sessionCookie()); err == nil && old != "" {
		// Best effort: the old session is revoked in PostgreSQL even when
		// Redis cannot take its tombstone, and a log-in must not fail for it.
		if err := s.wallet.Logout(ctx, old); err != nil {
			s.log.WarnContext(ctx, "revoke replaced session", "err", err, "request_id", edge.RequestID(c))
		}
	}
	var (
		token string
		exp   time.Time
	)
	err := s.db.WithTx(ctx, func(tx pgx.Tx) error {
		var err error
		token, exp, err = s.wallet.StartSession(ctx, tx, u.ID, method)
		return err
	})
	if err != nil {
		return false, err
	}
	has, err := s.passkeys.Required(ctx, s.db.Pool, u.ID)
	if err != nil {
		return false, err
	}
	s.setSessionCookie(c, token, exp)
	return has, nil
}

type emptyRequest struct{}

// walletLogout revokes the cookie's session everywhere and clears the
// cookie. Logging out without a session is a no-op that also answers 200.
func (s *Server) walletLogout(c *gin.Context) error {
	if err := edge.Decode(c, &emptyRequest{}); err != nil {
		return err
	}
	if token, err := c.Cookie(s.sessionCookie()); err == nil && token != "" {
		if err := s.wallet.Logout(c.Request.Context(), token); err != nil {
			return err
		}
	}
	s.ClearSessionCookie(c)
	c.PureJSON(http.StatusOK, gin.H{"logged_out": true})
	return nil
}
