package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/merchantauth"
)

// option is one checkbox of the settings form.
type option struct {
	Value string
	On    bool
}

type settingsData struct {
	Name, NotificationEmail               string
	Currencies, Methods, Brands, NotifyOn []option
	Sessions                              []merchantauth.Session
	Current                               string // this browser's session
	Errors                                map[string]string
	Saved                                 bool
}

// options are all of every, ticked where on holds them.
func options[T ~string](every []T, on []T) []option {
	out := make([]option, len(every))
	for i, x := range every {
		out[i] = option{Value: string(x), On: slices.Contains(on, x)}
	}
	return out
}

// ticked are all of every, ticked where the submitted form did, so a
// refused form shows what the merchant chose rather than what is saved.
func ticked[T ~string](every []T, form []string) []option {
	out := make([]option, len(every))
	for i, x := range every {
		out[i] = option{Value: string(x), On: slices.Contains(form, string(x))}
	}
	return out
}

func (s *Server) settingsData(v *Visit) settingsData {
	st := v.Merchant.Settings
	return settingsData{Name: v.Merchant.Name, NotificationEmail: st.NotificationEmail,
		Currencies: options(s.Currencies.List(), st.Currencies), Methods: options(merchant.Methods, st.Methods),
		Brands: options(merchant.Brands, st.Brands), NotifyOn: options(merchant.NotifyEvents, st.NotifyOn),
		Current: v.Session.ID}
}

// settings shows the business name, what the merchant accepts, its
// notification e-mails and its live sessions.
func (s *Server) settings(c *gin.Context, v *Visit) {
	d := s.settingsData(v)
	d.Saved = c.Query("saved") == "1"
	s.settingsPage(c, v, http.StatusOK, d)
}

func (s *Server) settingsPage(c *gin.Context, v *Visit, status int, d settingsData) {
	var err error
	if d.Sessions, err = s.Logins.List(c.Request.Context(), v.Merchant.ID); err != nil {
		s.ErrorPage(c, err)
		return
	}
	s.render(c, status, "settings", v, "settings", d)
}

// saveSettings changes them with merchant.Update (PATCH /v1/merchant's).
func (s *Server) saveSettings(c *gin.Context, v *Visit, form url.Values) {
	name, email := form.Get("name"), form.Get("notification_email")
	list := func(field string) *[]string {
		l := form[field]
		if l == nil {
			l = []string{}
		}
		return &l
	}
	u := merchant.Update{Name: &name, NotificationEmail: &email, Currencies: list("currencies"),
		PaymentMethods: list("payment_methods"), CardBrands: list("card_brands"), NotifyOn: list("notify_on")}
	_, _, err := s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		m, err := s.Merchants.Update(ctx, tx, v.Merchant.ID, u)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, merchant.ToWire(m), nil
	})
	if err != nil {
		status, errs := s.Failed(c, err)
		d := s.settingsData(v)
		d.Name, d.NotificationEmail, d.Errors = name, email, errs
		d.Currencies, d.Methods = ticked(s.Currencies.List(), form["currencies"]), ticked(merchant.Methods, form["payment_methods"])
		d.Brands, d.NotifyOn = ticked(merchant.Brands, form["card_brands"]), ticked(merchant.NotifyEvents, form["notify_on"])
		s.settingsPage(c, v, status, d)
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/settings?saved=1")
}

// revokeSession ends one of the merchant's sessions (another browser, or
// this one).
func (s *Server) revokeSession(c *gin.Context, v *Visit, _ url.Values) {
	if err := s.Logins.Revoke(c.Request.Context(), v.Merchant.ID, c.Param("id")); err != nil {
		s.ErrorPage(c, err)
		return
	}
	if c.Param("id") == v.Session.ID {
		s.setCookie(c, "", s.Now())
		c.Redirect(http.StatusSeeOther, "/dashboard/login")
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/settings")
}
