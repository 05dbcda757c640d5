package linkpages

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/apperr"
	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/httpapi/dashboard"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/payments"
	"github.com/paylink/paylink/internal/qr"
)

type linksData struct {
	Links         []*links.Link
	Status, Realm string
	Errors        map[string]string
	Next          string
	Now           func(*links.Link) links.Status
	Statuses      []string
}

// links lists the merchant's links, filtered by status and realm as the
// API filters them, newest first.
func (s *Pages) links(c *gin.Context, v *dashboard.Visit) {
	d := linksData{Status: c.Query("status"), Realm: c.Query("realm"),
		Statuses: []string{"active", "completed", "expired", "deactivated"},
		Now:      func(l *links.Link) links.Status { return l.StatusAt(s.Now()) }}
	f, err := links.ParseFilter(d.Status, d.Realm)
	if err != nil {
		var status int
		status, d.Errors = s.Failed(c, err)
		s.render(c, status, "links", v, "links", d)
		return
	}
	after := dashboard.StartingAfter(c, "plink")
	list, more, err := s.Links.Find(c.Request.Context(), s.DB.Pool, v.Merchant.ID, f, dashboard.PageSize, after)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	d.Links = list
	if more {
		q := url.Values{"starting_after": {list[len(list)-1].ID}}
		for k, val := range map[string]string{"status": d.Status, "realm": d.Realm} {
			if val != "" {
				q.Set(k, val)
			}
		}
		d.Next = dashboard.WithQuery("/dashboard/links", q)
	}
	s.render(c, http.StatusOK, "links", v, "links", d)
}

// linkForm is the new-link form as typed.
type linkForm struct {
	Amount, Currency, Description, ExpiresInDays, SuccessURL, CancelURL, Realm, Metadata string
	SingleUse                                                                            bool
	Currencies                                                                           []money.Currency
	Errors                                                                               map[string]string
}

func (s *Pages) newLink(c *gin.Context, v *dashboard.Visit) {
	accepted := v.Merchant.Settings.Currencies
	cur := s.Currencies.First() // the platform's first, when the merchant takes it
	if !v.Merchant.Settings.AcceptsCurrency(cur) && len(accepted) > 0 {
		cur = accepted[0]
	}
	s.render(c, http.StatusOK, "link-new", v, "links", linkForm{SingleUse: true, ExpiresInDays: "7",
		Currency: string(cur), Currencies: accepted})
}

var (
	errExpiryDays = &apperr.Error{Kind: apperr.Invalid, Code: "expiry_invalid", Param: "expires_in",
		Message: "Enter the number of days the link stays valid, from 1 to 365."}
	errMetadataLines = &apperr.Error{Kind: apperr.Invalid, Code: "metadata_invalid", Param: "metadata",
		Message: "Write one key=value pair per line."}
)

// readLink turns the new-link form into the API's links.NewLink.
func (s *Pages) readLink(in *linkForm) (links.NewLink, error) {
	cur, err := s.Currencies.Parse(in.Currency)
	if err != nil {
		return links.NewLink{}, err
	}
	minor, err := money.ParseMajor(in.Amount, cur, "amount")
	if err != nil {
		return links.NewLink{}, err
	}
	nl := links.NewLink{Amount: money.Amount{Minor: minor, Currency: cur}, Description: in.Description,
		SingleUse: in.SingleUse, SuccessURL: in.SuccessURL, CancelURL: in.CancelURL, Realm: in.Realm}
	if d := strings.TrimSpace(in.ExpiresInDays); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 || n > 365 {
			return nl, errExpiryDays
		}
		secs := int64(n) * 86400
		nl.ExpiresIn = &secs
	}
	if strings.TrimSpace(in.Metadata) != "" {
		nl.Metadata = map[string]string{}
		for _, line := range strings.Split(in.Metadata, "\n") {
			if line = strings.TrimSpace(line); line == "" {
				continue
			}
			k, val, ok := strings.Cut(line, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return nl, errMetadataLines
			}
			nl.Metadata[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
	}
	return nl, nil
}

// createLink makes the link with links.Create (the API's), once per form.
func (s *Pages) createLink(c *gin.Context, v *dashboard.Visit, form url.Values) {
	in := linkForm{Amount: form.Get("amount"), Currency: form.Get("currency"), Description: form.Get("description"),
		ExpiresInDays: form.Get("expires_in_days"), SuccessURL: form.Get("success_url"), CancelURL: form.Get("cancel_url"),
		Realm: form.Get("realm"), Metadata: form.Get("metadata"), SingleUse: form.Get("single_use") == "1",
		Currencies: v.Merchant.Settings.Currencies}
	nl, err := s.readLink(&in)
	var body []byte
	if err == nil {
		_, body, err = s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
			l, err := s.Links.Create(ctx, tx, v.Merchant.ID, nl)
			if err != nil {
				return 0, nil, err
			}
			return http.StatusCreated, s.Links.ToWire(l), nil
		})
	}
	if err != nil {
		var status int
		status, in.Errors = s.Failed(c, err)
		s.render(c, status, "link-new", v, "links", in)
		return
	}
	var made struct{ ID string }
	_ = json.Unmarshal(body, &made)
	c.Redirect(http.StatusSeeOther, "/dashboard/links/"+made.ID+"?created=1")
}

type linkData struct {
	Link     *links.Link
	Status   links.Status
	URL      string
	Payments []*checkout.Payment
	Created  bool
	Sent     bool     // the link was just e-mailed
	Send     sendForm // the send-by-e-mail form as typed
}

// link is one link's page: its URL to copy, its QR code, the payments
// made through it, sending it by e-mail, and deactivation.
func (s *Pages) link(c *gin.Context, v *dashboard.Visit) {
	s.linkPage(c, v, http.StatusOK, linkData{Created: c.Query("created") == "1", Sent: c.Query("sent") == "1",
		Send: sendForm{Reminders: true}})
}

// linkPage renders the link's page with status and d's flags and send
// form filled in.
func (s *Pages) linkPage(c *gin.Context, v *dashboard.Visit, status int, d linkData) {
	ctx := c.Request.Context()
	l, err := s.Links.Get(ctx, s.DB.Pool, v.Merchant.ID, c.Param("id"))
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	paid, _, err := payments.Search(ctx, s.DB.Pool, v.Merchant.ID, payments.Filter{LinkID: l.ID}, dashboard.PageSize, "")
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	d.Link, d.Status, d.URL, d.Payments = l, l.StatusAt(s.Now()), s.Links.URL(l), paid
	s.render(c, status, "link", v, "links", d)
}

// linkQR is the link's URL as a QR code, as GET /v1/payment_links/{id}/qr
// draws it: SVG, or PNG with ?format=png, ?size= pixels (128 .. 1024); a
// download with ?download=1.
func (s *Pages) linkQR(c *gin.Context, v *dashboard.Visit) {
	opts, err := qr.ParseOptions(c.Request.URL.Query())
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	l, err := s.Links.Get(c.Request.Context(), s.DB.Pool, v.Merchant.ID, c.Param("id"))
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	code, err := qr.New(s.Links.URL(l))
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	c.Header("Cache-Control", "private, max-age=300")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	if c.Query("download") == "1" {
		c.Header("Content-Disposition", `attachment; filename="`+l.ID+`.`+opts.Format+`"`)
	}
	b, contentType, err := code.Image(opts)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	c.Data(http.StatusOK, contentType, b)
}

// deactivateLink deactivates the link with links.Deactivate, once per
// form.
func (s *Pages) deactivateLink(c *gin.Context, v *dashboard.Visit, _ url.Values) {
	lid := c.Param("id")
	_, _, err := s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		l, err := s.Links.Deactivate(ctx, tx, v.Merchant.ID, lid)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, s.Links.ToWire(l), nil
	})
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/links/"+lid)
}
