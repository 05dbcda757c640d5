package delivery

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paylink/paylink/internal/webhook"
)

// Deliveries to endpoints that change meanwhile: a rotated secret, a
// deleted endpoint.

// TestRotatedSecretSignsDuringOverlap: after a rotation both secrets sign
// until the overlap ends, then only the new one.
func TestRotatedSecretSignsDuringOverlap(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rcv := newReceiver(t, status(200, ""))
	ep := f.endpoint(rcv.URL, webhook.AllEvents)
	var rotated *webhook.Endpoint
	f.tx(func(tx pgx.Tx) (err error) {
		rotated, err = f.hooks.RotateSecret(f.ctx, tx, f.merchant.ID, ep.ID, time.Hour)
		return err
	})
	if rotated.Secret == ep.Secret || rotated.PreviousSecretExpiresAt == nil {
		t.Fatalf("rotation = %+v", rotated)
	}
	deliver := func() received {
		t.Helper()
		d := f.onlyDelivery(f.record(webhook.PaymentSucceeded, payment("pay_x")))
		if err := f.svc.Deliver(f.ctx, f.merchant.ID, d.ID); err != nil {
			t.Fatal(err)
		}
		return rcv.next(t)
	}
	got := deliver()
	sigs := strings.Fields(got.Header.Get("webhook-signature"))
	if len(sigs) != 2 {
		t.Fatalf("during the overlap: %d signatures, want 2", len(sigs))
	}
	for _, secret := range []string{ep.Secret, rotated.Secret} {
		if err := verify(secret, got.Header, got.Body); err != nil {
			t.Errorf("during the overlap: %v", err)
		}
	}
	f.clock.Advance(time.Hour + time.Second)
	got = deliver()
	if n := len(strings.Fields(got.Header.Get("webhook-signature"))); n != 1 {
		t.Fatalf("after the overlap: %d signatures, want 1", n)
	}
	if verify(rotated.Secret, got.Header, got.Body) != nil || verify(ep.Secret, got.Header, got.Body) == nil {
		t.Fatal("after the overlap only the new secret may sign")
	}
	// The secret is sealed at rest: neither appears in the row.
	var row string
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT t::text FROM webhook_endpoints t`).Scan(&row); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{ep.Secret, rotated.Secret, strings.TrimPrefix(rotated.Secret, "whsec_")} {
		if strings.Contains(row, s) {
			t.Fatal("a webhook secret is stored in plaintext")
		}
	}
}

// TestDeletedEndpointCancelsPendingDeliveries: deleting an endpoint
// cancels what was pending, and a task still queued for it sends nothing.
func TestDeletedEndpointCancelsPendingDeliveries(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rcv := newReceiver(t, status(200, ""))
	ep := f.endpoint(rcv.URL, webhook.AllEvents)
	d := f.onlyDelivery(f.record(webhook.PaymentSucceeded, payment("pay_1")))
	f.tx(func(tx pgx.Tx) error { return f.hooks.DeleteEndpoint(f.ctx, tx, f.merchant.ID, ep.ID) })
	if got := f.onlyDelivery(d.EventID); got.Status != webhook.DeliveryCanceled {
		t.Fatalf("delivery after delete = %s, want canceled", got.Status)
	}
	if err := f.svc.Deliver(f.ctx, f.merchant.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	if len(rcv.got) != 0 {
		t.Fatal("a deleted endpoint was called")
	}
	if _, err := f.hooks.GetEndpoint(f.ctx, f.db.Pool, f.merchant.ID, ep.ID); !errors.Is(err, webhook.ErrEndpointNotFound) {
		t.Fatalf("GetEndpoint after delete: %v", err)
	}
}
