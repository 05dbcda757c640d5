package merchantapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/webhook"
	"github.com/paylink/paylink/internal/wire"
)

// A test ping goes to the one endpoint asked for, signed with its
// secret, and the answer says how the receiver answered.
func TestWebhookEndpointTestSendsASignedPing(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, allowPrivate)
	_, key := e.SignUp("ping@shop.test")
	type hit struct {
		header http.Header
		body   []byte
	}
	got := make(chan hit, 10)
	var answer atomic.Int32
	answer.Store(http.StatusNoContent)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- hit{r.Header.Clone(), b}
		w.WriteHeader(int(answer.Load()))
	}))
	t.Cleanup(rcv.Close)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a ping reached another endpoint: %s", r.URL)
	}))
	t.Cleanup(other.Close)
	_, ep := createEndpoint(e, key, map[string]any{"url": rcv.URL + "/hook", "events": []string{"*"}})
	createEndpoint(e, key, map[string]any{"url": other.URL + "/hook", "events": []string{"*"}})

	res := e.Do(apitest.Req{Method: "POST", Path: "/v1/webhook_endpoints/" + ep.ID + "/test", Auth: &key})
	var ping wire.WebhookPing
	res.Decode(t, &ping)
	if res.Status != http.StatusOK || !ping.Succeeded || ping.StatusCode == nil || *ping.StatusCode != 204 ||
		ping.Event.Type != "ping" || ping.Error != nil {
		t.Fatalf("test = %d %s", res.Status, res.Body)
	}
	h := <-got // sent before the answer came back
	var env wire.Event
	if err := json.Unmarshal(h.body, &env); err != nil || env.ID != ping.Event.ID || env.Type != webhook.Ping ||
		string(env.Data) != `{"endpoint":"`+ep.ID+`"}` {
		t.Fatalf("body = %s (%v)", h.body, err)
	}
	ts, _ := strconv.ParseInt(h.header.Get("webhook-timestamp"), 10, 64)
	want, err := webhook.Sign(ep.Secret, env.ID, ts, h.body)
	if err != nil || h.header.Get("webhook-signature") != want || h.header.Get("webhook-id") != env.ID {
		t.Fatalf("headers = %v, want signature %s (%v)", h.header, want, err)
	}
	// Nothing is recorded: no event, no delivery.
	if n := e.Count(`SELECT count(*) FROM events`); n != 0 {
		t.Errorf("%d events after a ping", n)
	}

	// A failing receiver is reported, not retried.
	answer.Store(http.StatusInternalServerError)
	res = e.Do(apitest.Req{Method: "POST", Path: "/v1/webhook_endpoints/" + ep.ID + "/test", Auth: &key})
	res.Decode(t, &ping)
	<-got
	if res.Status != http.StatusOK || ping.Succeeded || ping.Error == nil || *ping.StatusCode != 500 {
		t.Fatalf("failing test = %d %s", res.Status, res.Body)
	}
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/webhook_endpoints/we_nope/test", Auth: &key}),
		http.StatusNotFound, "webhook_endpoint_not_found")
	apitest.WantError(t, e.Do(apitest.Req{Method: "POST", Path: "/v1/webhook_endpoints/" + ep.ID + "/test", Auth: &key,
		Body: map[string]any{"x": 1}}), http.StatusBadRequest, "unknown_parameter")
}

// TestOpenAPIEventTypes: the published Event envelope names every type a
// receiver can get, the test ping included, so a client generated from it
// accepts every delivery.
func TestOpenAPIEventTypes(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	var doc struct {
		Components struct {
			Schemas struct {
				Event struct {
					Properties struct {
						Type struct {
							Enum []string `json:"enum"`
						} `json:"type"`
					} `json:"properties"`
				} `json:"Event"`
			} `json:"schemas"`
		} `json:"components"`
	}
	e.Do(apitest.Req{Method: "GET", Path: "/v1/openapi.json"}).Decode(t, &doc)
	got := doc.Components.Schemas.Event.Properties.Type.Enum
	want := append(webhook.Types(), webhook.Ping)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Event.type enum = %v; want %v", got, want)
	}
}
