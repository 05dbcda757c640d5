package linkpages

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/httpapi/dashboard"
)

// sendForm is the send-by-e-mail form of a link's page as typed, with
// the errors of its last sending.
type sendForm struct {
	Email     string
	Reminders bool
	Errors    map[string]string
}

// sendLink e-mails the link to a shopper with links.Send (the API's: the
// same checks, limits and reminders), once per form, and comes back to
// the link's page; a refused sending shows the page again with the error
// by the form. The form's action ends in #send-by-email, so either answer
// opens at the form's section, not at the top of the page (a redirect
// without a fragment keeps the request's).
func (s *Pages) sendLink(c *gin.Context, v *dashboard.Visit, form url.Values) {
	lid := c.Param("id")
	in := sendForm{Email: form.Get("email"), Reminders: form.Get("reminders") == "1"}
	_, _, err := s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		sent, err := s.Links.Send(ctx, tx, v.Merchant.ID, v.Merchant.Name, lid, in.Email, in.Reminders)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusAccepted, s.Links.ToWire(sent.Link), nil
	})
	if err != nil {
		var status int
		status, in.Errors = s.Failed(c, err)
		s.linkPage(c, v, status, linkData{Send: in})
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/links/"+lid+"?sent=1")
}
