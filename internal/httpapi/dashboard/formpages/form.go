package formpages

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/forms"
	"github.com/paylink/paylink/internal/httpapi/dashboard"
	"github.com/paylink/paylink/internal/payments"
)

type formData struct {
	Form *forms.Form
	// Snippet is what the merchant pastes into its site: the SDK's script
	// tag, the element the form goes in, and the mount call.
	Snippet        string
	Payments       []*checkout.Payment
	Created, Saved bool
}

// snippet is the HTML that shows f on a merchant's page with the JS SDK
// served by this Paylink.
func (s *Pages) snippet(f *forms.Form) string {
	return `<script src="` + s.BaseURL.String() + `/sdk/paylink.js"></script>
<div id="paylink-form"></div>
<script>
  Paylink.mount("#paylink-form", {
    form: "` + f.ID + `",
    onSuccess: (payment) => console.log("paid", payment.id),
  });
</script>`
}

// form is one form's page: the snippet to copy, a preview of the form as
// shoppers see it (the embed preview, framed from this origin), the
// payments made through it, and the way to edit or deactivate it.
func (s *Pages) form(c *gin.Context, v *dashboard.Visit) {
	ctx := c.Request.Context()
	f, err := s.forms.Get(ctx, s.DB.Pool, v.Merchant.ID, c.Param("id"))
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	paid, _, err := payments.Search(ctx, s.DB.Pool, v.Merchant.ID, payments.Filter{FormID: f.ID}, dashboard.PageSize, "")
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	s.RenderFramingPage(c, http.StatusOK, s.pages["form"], v, "forms", formData{Form: f, Snippet: s.snippet(f),
		Payments: paid, Created: c.Query("created") == "1", Saved: c.Query("saved") == "1"})
}

// deactivateConfirm asks whether to deactivate the form, saying what
// that does.
func (s *Pages) deactivateConfirm(c *gin.Context, v *dashboard.Visit) {
	f, err := s.forms.Get(c.Request.Context(), s.DB.Pool, v.Merchant.ID, c.Param("id"))
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	s.render(c, http.StatusOK, "form-deactivate", v, f)
}

// deactivate deactivates the form with forms.Deactivate (the API's), once
// per rendered form.
func (s *Pages) deactivate(c *gin.Context, v *dashboard.Visit, _ url.Values) {
	fid := c.Param("id")
	_, _, err := s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		f, err := s.forms.Deactivate(ctx, tx, v.Merchant.ID, fid)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, s.forms.ToWire(f), nil
	})
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/forms/"+fid)
}
