package developerpages

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/httpapi/dashboard"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/webhook"
	"github.com/paylink/paylink/internal/wire"
)

type developersData struct {
	Keys       []merchant.APIKey
	Endpoints  []*webhook.Endpoint
	Scopes     []merchant.Scope
	EventTypes []string
	Errors     map[string]string
	KeyName    string
	HookURL    string
	HookDesc   string
	KeyScopes  map[string]bool // the scopes ticked in a refused new-key form
	HookEvents map[string]bool // the events ticked in a refused new-endpoint form
	Revoked    string          // a key just revoked
	Deleted    string          // a webhook endpoint just deleted
}

// developers lists the API keys and webhook endpoints, with the forms
// that make them.
func (s *Pages) developers(c *gin.Context, v *dashboard.Visit) {
	d := developersData{Revoked: c.Query("revoked")}
	if deleted := c.Query("deleted"); id.Valid("we", deleted) {
		d.Deleted = deleted
	}
	s.developersPage(c, v, http.StatusOK, d)
}

func (s *Pages) developersPage(c *gin.Context, v *dashboard.Visit, status int, d developersData) {
	ctx := c.Request.Context()
	var err error
	if d.Keys, _, err = s.Merchants.ListKeys(ctx, s.DB.Pool, v.Merchant.ID, 100, ""); err != nil {
		s.ErrorPage(c, err)
		return
	}
	if d.Endpoints, _, err = s.Webhooks.ListEndpoints(ctx, s.DB.Pool, v.Merchant.ID, 100, ""); err != nil {
		s.ErrorPage(c, err)
		return
	}
	d.Scopes, d.EventTypes = merchant.Grantable, webhook.Types()
	s.render(c, status, "developers", v, "developers", d)
}

// ticked is the set of a form's ticked checkboxes, to tick them again
// when the form comes back with an error.
func ticked(values []string) map[string]bool {
	set := make(map[string]bool, len(values))
	for _, v := range values {
		set[v] = true
	}
	return set
}

// secretData is the page that shows a new secret, once.
type secretData struct {
	Title, What, ID, Secret, Back string
}

// createKey makes a key with merchant.CreateKeyWith (the API's), named
// and scoped as the form asks (no scope ticked: full access), and shows
// its secret once.
func (s *Pages) createKey(c *gin.Context, v *dashboard.Visit, form url.Values) {
	nk := merchant.NewKey{Name: form.Get("name")}
	if scopes := form["scopes"]; len(scopes) > 0 {
		nk.Scopes = scopes
	}
	_, body, err := s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		k, err := s.Merchants.CreateKeyWith(ctx, tx, merchant.Owner(v.Merchant.ID), nk)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, k.ToWire(), nil
	})
	if err != nil {
		status, errs := s.Failed(c, err)
		s.developersPage(c, v, status, developersData{Errors: errs, KeyName: nk.Name, KeyScopes: ticked(form["scopes"])})
		return
	}
	s.showKeySecret(c, v, body, "Your new API key")
}

// showKeySecret renders the secret of the key in body, which a replay
// past idempotency.SecretReplay no longer has.
func (s *Pages) showKeySecret(c *gin.Context, v *dashboard.Visit, body []byte, title string) {
	var k wire.APIKey
	if err := json.Unmarshal(body, &k); err != nil {
		s.ErrorPage(c, err)
		return
	}
	s.render(c, http.StatusOK, "secret", v, "developers", secretData{Title: title, What: "API key", ID: k.ID,
		Secret: k.Secret, Back: "/dashboard/developers"})
}

// rollKey replaces a key with merchant.RollKey: the old one keeps working
// for the expires_in (seconds) the merchant chose, 24 hours unless told,
// as POST /v1/api_keys/{id}/roll. The new secret is shown once.
func (s *Pages) rollKey(c *gin.Context, v *dashboard.Visit, form url.Values) {
	grace, err := rollGrace(form.Get("expires_in"))
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	_, body, err := s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		made, _, err := s.Merchants.RollKey(ctx, tx, merchant.Owner(v.Merchant.ID), c.Param("id"), grace)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, made.ToWire(), nil
	})
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	s.showKeySecret(c, v, body, "The key's replacement ("+graceText(grace)+")")
}

// rollGrace reads the roll form's expires_in in seconds, as the API does:
// empty is merchant.DefaultRollGrace.
func rollGrace(raw string) (time.Duration, error) {
	if raw == "" {
		return merchant.RollGrace(nil)
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, merchant.ErrRollGraceInvalid
	}
	return merchant.RollGrace(&n)
}

// graceText says how long a rolled key keeps working.
func graceText(d time.Duration) string {
	switch {
	case d == 0:
		return "the old one stopped working at once"
	case d%(24*time.Hour) == 0:
		return "the old one works for " + dashboard.Count(int64(d/(24*time.Hour)), "more day", "more days")
	case d%time.Hour == 0:
		return "the old one works for " + dashboard.Count(int64(d/time.Hour), "more hour", "more hours")
	}
	return "the old one works for " + dashboard.Count(int64(d/time.Second), "more second", "more seconds")
}

// revokeKey revokes a key with merchant.RevokeKey.
func (s *Pages) revokeKey(c *gin.Context, v *dashboard.Visit, _ url.Values) {
	kid := c.Param("id")
	_, _, err := s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		k, err := s.Merchants.RevokeKey(ctx, tx, merchant.Owner(v.Merchant.ID), kid)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, k.ToWire(), nil
	})
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/developers?revoked="+url.QueryEscape(kid))
}

// createEndpoint adds a webhook endpoint with webhook.CreateEndpoint (the
// API's) and shows its signing secret once.
func (s *Pages) createEndpoint(c *gin.Context, v *dashboard.Visit, form url.Values) {
	events := form["events"]
	if len(events) == 0 {
		events = []string{webhook.AllEvents}
	}
	d := developersData{HookURL: form.Get("url"), HookDesc: form.Get("description"), HookEvents: ticked(form["events"])}
	u, err := s.Webhooks.CheckURL(c.Request.Context(), strings.TrimSpace(d.HookURL))
	var body []byte
	if err == nil {
		_, body, err = s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
			e, err := s.Webhooks.CreateEndpoint(ctx, tx, v.Merchant.ID, webhook.NewEndpoint{URL: u, Events: events,
				Description: d.HookDesc})
			if err != nil {
				return 0, nil, err
			}
			return http.StatusCreated, e.ToWire(), nil
		})
	}
	if err != nil {
		status, errs := s.Failed(c, err)
		d.Errors = errs
		s.developersPage(c, v, status, d)
		return
	}
	var e wire.WebhookEndpoint
	if err := json.Unmarshal(body, &e); err != nil {
		s.ErrorPage(c, err)
		return
	}
	s.render(c, http.StatusOK, "secret", v, "developers", secretData{Title: "Your new webhook endpoint",
		What: "signing secret", ID: e.ID, Secret: e.Secret, Back: "/dashboard/developers/webhooks/" + e.ID})
}

type endpointData struct {
	Endpoint   *webhook.Endpoint
	Deliveries []*webhook.Delivery
	Ping       *webhook.PingResult
}

// endpoint is one webhook endpoint's page: its delivery log, newest
// first, with every attempt, and the test-event button.
func (s *Pages) endpoint(c *gin.Context, v *dashboard.Visit) {
	s.endpointPage(c, v, nil)
}

func (s *Pages) endpointPage(c *gin.Context, v *dashboard.Visit, ping *webhook.PingResult) {
	ctx := c.Request.Context()
	eid := c.Param("id")
	if !id.Valid("we", eid) {
		s.ErrorPage(c, webhook.ErrEndpointNotFound)
		return
	}
	e, err := s.Webhooks.GetEndpoint(ctx, s.DB.Pool, v.Merchant.ID, eid)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	ds, _, err := s.Webhooks.ListDeliveries(ctx, s.DB.Pool, v.Merchant.ID, webhook.DeliveryFilter{EndpointID: eid}, 50, "")
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	s.render(c, http.StatusOK, "endpoint", v, "developers", endpointData{Endpoint: e, Deliveries: ds, Ping: ping})
}

// testEndpoint sends a signed ping to the endpoint now (webhook.SendPing,
// the API's test event) and shows how it answered.
func (s *Pages) testEndpoint(c *gin.Context, v *dashboard.Visit, _ url.Values) {
	eid := c.Param("id")
	if !id.Valid("we", eid) {
		s.ErrorPage(c, webhook.ErrEndpointNotFound)
		return
	}
	r, err := s.Webhooks.SendPing(c.Request.Context(), v.Merchant.ID, eid)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	s.endpointPage(c, v, r)
}

// enableEndpoint turns a disabled endpoint back on (webhook.UpdateEndpoint
// with status enabled, as POST /v1/webhook_endpoints/{id} does).
func (s *Pages) enableEndpoint(c *gin.Context, v *dashboard.Visit, _ url.Values) {
	eid := c.Param("id")
	enabled := webhook.StatusEnabled
	_, _, err := s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		e, err := s.Webhooks.UpdateEndpoint(ctx, tx, v.Merchant.ID, eid, webhook.EndpointUpdate{Status: &enabled})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, e.ToWire(), nil
	})
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/developers/webhooks/"+eid)
}

// rotateEndpointSecret gives the endpoint a new signing secret
// (webhook.RotateSecret; the old one still signs for the default
// overlap) and shows it once.
func (s *Pages) rotateEndpointSecret(c *gin.Context, v *dashboard.Visit, _ url.Values) {
	eid := c.Param("id")
	_, body, err := s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		e, err := s.Webhooks.RotateSecret(ctx, tx, v.Merchant.ID, eid, webhook.DefaultOverlap)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, e.ToWire(), nil
	})
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	var e wire.WebhookEndpoint
	if err := json.Unmarshal(body, &e); err != nil {
		s.ErrorPage(c, err)
		return
	}
	s.render(c, http.StatusOK, "secret", v, "developers", secretData{Title: "The endpoint's new signing secret",
		What: "signing secret", ID: e.ID, Secret: e.Secret, Back: "/dashboard/developers/webhooks/" + e.ID})
}

// deleteEndpoint deletes the endpoint with webhook.DeleteEndpoint (as
// DELETE /v1/webhook_endpoints/{id}: no more events go to it, its pending
// deliveries are cancelled), once per form, after the page's
// confirmation.
func (s *Pages) deleteEndpoint(c *gin.Context, v *dashboard.Visit, _ url.Values) {
	eid := c.Param("id")
	if !id.Valid("we", eid) {
		s.ErrorPage(c, webhook.ErrEndpointNotFound)
		return
	}
	_, _, err := s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		if err := s.Webhooks.DeleteEndpoint(ctx, tx, v.Merchant.ID, eid); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, wire.Deleted{ID: eid, Deleted: true}, nil
	})
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/developers?deleted="+url.QueryEscape(eid))
}
