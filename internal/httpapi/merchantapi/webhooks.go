package merchantapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/id"
	"github.com/paylink/paylink/internal/webhook"
	"github.com/paylink/paylink/internal/wire"
)

type createEndpointRequest struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
}

// createEndpoint registers a webhook endpoint. The URL is checked (DNS
// included) before the transaction opens.
func (s *Server) createEndpoint(c *gin.Context) error {
	var in createEndpointRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	if _, err := webhook.ValidateEvents(in.Events); err != nil {
		return err
	}
	u, err := s.webhooks.CheckURL(c.Request.Context(), in.URL)
	if err != nil {
		return err
	}
	m := CurrentMerchant(c)
	return s.edge.Mutate(c, m.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		e, err := s.webhooks.CreateEndpoint(ctx, tx, m.ID, webhook.NewEndpoint{URL: u, Events: in.Events, Description: in.Description})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, e.ToWire(), nil
	})
}

func (s *Server) listEndpoints(c *gin.Context) error {
	p, err := edge.ParseList(c, "we")
	if err != nil {
		return err
	}
	es, more, err := s.webhooks.ListEndpoints(c.Request.Context(), s.db.Pool, CurrentMerchant(c).ID, p.Limit, p.StartingAfter)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, edge.ListOf(es, more, (*webhook.Endpoint).ToWire))
	return nil
}

// endpointID returns the :id parameter if it looks like an endpoint id.
func endpointID(c *gin.Context) (string, error) {
	v := c.Param("id")
	if !id.Valid("we", v) {
		return "", webhook.ErrEndpointNotFound
	}
	return v, nil
}

func (s *Server) getEndpoint(c *gin.Context) error {
	eid, err := endpointID(c)
	if err != nil {
		return err
	}
	e, err := s.webhooks.GetEndpoint(c.Request.Context(), s.db.Pool, CurrentMerchant(c).ID, eid)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, e.ToWire())
	return nil
}

type updateEndpointRequest struct {
	URL         *string  `json:"url"`
	Events      []string `json:"events"`
	Description *string  `json:"description"`
	Status      *string  `json:"status"`
}

// updateEndpoint changes the given fields; {"status": "enabled"} turns a
// disabled endpoint back on.
func (s *Server) updateEndpoint(c *gin.Context) error {
	eid, err := endpointID(c)
	if err != nil {
		return err
	}
	var in updateEndpointRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	upd := webhook.EndpointUpdate{Events: in.Events, Description: in.Description, Status: in.Status}
	if in.URL != nil {
		if upd.URL, err = s.webhooks.CheckURL(c.Request.Context(), *in.URL); err != nil {
			return err
		}
	}
	m := CurrentMerchant(c)
	return s.edge.Mutate(c, m.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		e, err := s.webhooks.UpdateEndpoint(ctx, tx, m.ID, eid, upd)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, e.ToWire(), nil
	})
}

func (s *Server) deleteEndpoint(c *gin.Context) error {
	eid, err := endpointID(c)
	if err != nil {
		return err
	}
	m := CurrentMerchant(c)
	err = s.db.WithTx(c.Request.Context(), func(tx pgx.Tx) error {
		return s.webhooks.DeleteEndpoint(c.Request.Context(), tx, m.ID, eid)
	})
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, wire.Deleted{ID: eid, Deleted: true})
	return nil
}

type rotateSecretRequest struct {
	ExpiresIn *int64 `json:"expires_in"`
}

// rotateSecret gives the endpoint a new secret; the old one keeps signing
// for expires_in seconds (default 24 hours).
func (s *Server) rotateSecret(c *gin.Context) error {
	eid, err := endpointID(c)
	if err != nil {
		return err
	}
	var in rotateSecretRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	overlap := webhook.DefaultOverlap
	if in.ExpiresIn != nil {
		if *in.ExpiresIn < 0 || *in.ExpiresIn > int64(webhook.MaxOverlap/time.Second) {
			return webhook.ErrOverlapInvalid
		}
		overlap = time.Duration(*in.ExpiresIn) * time.Second
	}
	m := CurrentMerchant(c)
	return s.edge.Mutate(c, m.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		e, err := s.webhooks.RotateSecret(ctx, tx, m.ID, eid, overlap)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, e.ToWire(), nil
	})
}

func (s *Server) listEndpointDeliveries(c *gin.Context) error {
	eid, err := endpointID(c)
	if err != nil {
		return err
	}
	return s.listDeliveries(c, webhook.DeliveryFilter{EndpointID: eid})
}

func (s *Server) listDeliveries(c *gin.Context, f webhook.DeliveryFilter) error {
	p, err := edge.ParseList(c, "dlv")
	if err != nil {
		return err
	}
	ds, more, err := s.webhooks.ListDeliveries(c.Request.Context(), s.db.Pool, CurrentMerchant(c).ID, f, p.Limit, p.StartingAfter)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, edge.ListOf(ds, more, (*webhook.Delivery).ToWire))
	return nil
}

func (s *Server) listEvents(c *gin.Context) error {
	p, err := edge.ParseList(c, "evt", "type")
	if err != nil {
		return err
	}
	evs, more, err := s.webhooks.ListEvents(c.Request.Context(), s.db.Pool, CurrentMerchant(c).ID, c.Query("type"), p.Limit, p.StartingAfter)
	if err != nil {
		return err
	}
	c.PureJSON(http.StatusOK, edge.ListOf(evs, more, (*webhook.Event).ToWire))
	return nil
}

// eventID returns the :id parameter if it looks like an event id.
func eventID(c *gin.Context) (string, error) {
	v := c.Param("id")
	if !id.Valid("evt", v) {
		return "", webhook.ErrEventNotFound
	}
	return v, nil
}

// getEvent answers the event with exactly the bytes a delivery sends.
func (s *Server) getEvent(c *gin.Context) error {
	evtID, err := eventID(c)
	if err != nil {
		return err
	}
	ev, err := s.webhooks.GetEvent(c.Request.Context(), s.db.Pool, CurrentMerchant(c).ID, evtID)
	if err != nil {
		return err
	}
	body, err := ev.Envelope()
	if err != nil {
		return err
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", body)
	return nil
}

func (s *Server) listEventDeliveries(c *gin.Context) error {
	evtID, err := eventID(c)
	if err != nil {
		return err
	}
	return s.listDeliveries(c, webhook.DeliveryFilter{EventID: evtID})
}

type redeliverRequest struct {
	Endpoint string `json:"endpoint"`
}

// redeliver queues the event again to every subscribed endpoint, or to the
// one named, and answers the new deliveries.
func (s *Server) redeliver(c *gin.Context) error {
	evtID, err := eventID(c)
	if err != nil {
		return err
	}
	var in redeliverRequest
	if err := edge.Decode(c, &in); err != nil {
		return err
	}
	if in.Endpoint != "" && !id.Valid("we", in.Endpoint) {
		return webhook.ErrEndpointNotFound.WithParam("endpoint")
	}
	m := CurrentMerchant(c)
	return s.edge.Mutate(c, m.ID, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		ds, err := s.webhooks.Redeliver(ctx, tx, m.ID, evtID, in.Endpoint)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, edge.ListOf(ds, false, (*webhook.Delivery).ToWire), nil
	})
}
