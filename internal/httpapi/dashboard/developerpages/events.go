package developerpages

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/httpapi/dashboard"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/webhook"
)

// eventsPageSize is how many events a page of the list shows.
const eventsPageSize = 25

type eventsData struct {
	Events      []*webhook.Event
	Types       []string
	Type        string // the type filter, "" for every type
	Next, First string // the pager's links, when there are such pages
}

// events lists the merchant's events, newest first, as GET /v1/events
// does: filtered by ?type=, paged by ?starting_after=.
func (s *Pages) events(c *gin.Context, v *dashboard.Visit) {
	d := eventsData{Types: webhook.Types(), Type: c.Query("type")}
	if d.Type != "" && !slices.Contains(d.Types, d.Type) {
		s.ErrorPage(c, webhook.ErrTypeInvalid)
		return
	}
	after := dashboard.StartingAfter(c, "evt")
	list, more, err := s.Webhooks.ListEvents(c.Request.Context(), s.DB.Pool, v.Merchant.ID, d.Type, eventsPageSize, after)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	d.Events = list
	keep := url.Values{}
	if d.Type != "" {
		keep.Set("type", d.Type)
	}
	if more {
		next := url.Values{"starting_after": {list[len(list)-1].ID}}
		if d.Type != "" {
			next.Set("type", d.Type)
		}
		d.Next = dashboard.WithQuery("/dashboard/developers/events", next)
	}
	if after != "" {
		d.First = dashboard.WithQuery("/dashboard/developers/events", keep)
	}
	s.render(c, http.StatusOK, "events", v, "developers", d)
}

type eventData struct {
	Event       *webhook.Event
	JSON        string // the API's body for the event, indented
	Deliveries  []*webhook.Delivery
	Redelivered string // how many deliveries a redeliver just queued, from ?redelivered=
	About       string // the dashboard page of the object the event is about, if it has one
}

// aboutPage is the dashboard page of the payment or link an event's data
// is, or "" for other objects.
func aboutPage(data json.RawMessage) string {
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(data, &obj) != nil {
		return ""
	}
	switch {
	case id.Valid("pay", obj.ID):
		return "/dashboard/payments/" + obj.ID
	case id.Valid("plink", obj.ID):
		return "/dashboard/links/" + obj.ID
	}
	return ""
}

// event is one event's page: its body exactly as GET /v1/events/{id}
// answers and a delivery sends it (indented for reading), its deliveries
// with every attempt, and the redeliver button.
func (s *Pages) event(c *gin.Context, v *dashboard.Visit) {
	ctx := c.Request.Context()
	evtID := c.Param("id")
	if !id.Valid("evt", evtID) {
		s.ErrorPage(c, webhook.ErrEventNotFound)
		return
	}
	ev, err := s.Webhooks.GetEvent(ctx, s.DB.Pool, v.Merchant.ID, evtID)
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	body, err := ev.Envelope()
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		s.ErrorPage(c, err)
		return
	}
	ds, _, err := s.Webhooks.ListDeliveries(ctx, s.DB.Pool, v.Merchant.ID, webhook.DeliveryFilter{EventID: evtID}, 100, "")
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	d := eventData{Event: ev, JSON: pretty.String(), Deliveries: ds, About: aboutPage(ev.Data)}
	if n, err := strconv.Atoi(c.Query("redelivered")); err == nil && n >= 0 {
		d.Redelivered = strconv.Itoa(n)
	}
	s.render(c, http.StatusOK, "event", v, "developers", d)
}

// redeliverEvent queues the event again to every enabled endpoint
// subscribed to its type (webhook.Redeliver, as POST
// /v1/events/{id}/redeliver does) and shows the event's page.
func (s *Pages) redeliverEvent(c *gin.Context, v *dashboard.Visit, _ url.Values) {
	evtID := c.Param("id")
	if !id.Valid("evt", evtID) {
		s.ErrorPage(c, webhook.ErrEventNotFound)
		return
	}
	_, body, err := s.Edge.MutateAnswer(c, v.Merchant.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		ds, err := s.Webhooks.Redeliver(ctx, tx, v.Merchant.ID, evtID, "")
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, map[string]int{"queued": len(ds)}, nil
	})
	if err != nil {
		s.ErrorPage(c, err)
		return
	}
	var queued struct {
		Queued int `json:"queued"`
	}
	if err := json.Unmarshal(body, &queued); err != nil {
		s.ErrorPage(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/dashboard/developers/events/"+evtID+"?redelivered="+strconv.Itoa(queued.Queued))
}
