package walletapp

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

type walletPageData struct {
	Currencies string
}

// walletPage is the account page; without a live session it sends the
// browser to log in first.
func (s *Server) walletPage(c *gin.Context) {
	if _, err := s.SessionFromCookie(c); err != nil {
		c.Redirect(http.StatusSeeOther, "/wallet/login?next=/wallet")
		return
	}
	var codes []string
	for _, cur := range s.currencies.List() {
		codes = append(codes, string(cur))
	}
	s.page(c, http.StatusOK, "wallet", walletPageData{Currencies: strings.Join(codes, ",")})
}

// walletLoginPage sends a browser that is already logged in on to its
// account.
func (s *Server) walletLoginPage(c *gin.Context) {
	if _, err := s.SessionFromCookie(c); err == nil {
		c.Redirect(http.StatusSeeOther, "/wallet")
		return
	}
	s.page(c, http.StatusOK, "wallet-login", nil)
}

func (s *Server) walletSignUpPage(c *gin.Context) {
	s.page(c, http.StatusOK, "wallet-signup", nil)
}

// page renders the wallet page name with the security headers every page
// carries (frame-ancestors 'none').
func (s *Server) page(c *gin.Context, status int, name string, data any) {
	s.edge.Render(c, status, s.pages[name], "'none'", data)
}
