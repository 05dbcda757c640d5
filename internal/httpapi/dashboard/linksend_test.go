package dashboard_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/links"
)

// A link is e-mailed from its page through links.Send, as the API sends
// it: the recipient's e-mail is queued with the link's URL, with
// reminders when ticked; a double submit sends once; a bad address is an
// error by the field; the 11th recipient of the day is refused in the
// page; a form from another origin, another merchant's session and an
// inactive link send nothing.
func TestDashboardSendLink(t *testing.T) {
	env := apitest.New(t)
	mid, creds := env.SignUp("sender@shop.test")
	l := env.CreateLink(creds, map[string]any{"expires_in": 7 * 24 * 3600})
	b := newBrowser(env)
	b.login("sender@shop.test")
	path := "/dashboard/links/" + l.ID
	wantContains(t, b.get(path), `action="/dashboard/links/`+l.ID+`/send#send-by-email"`, `id="send-by-email"`, `name="reminders" type="checkbox" value="1" checked`)

	form := url.Values{"email": {"Ada@Example.test"}, "reminders": {"1"}, "idempotency_key": {"send-once-" + randomSuffix()}}
	for range 2 { // the second is a double submit: the same key
		p := b.post(path+"/send", form)
		if p.Status != http.StatusSeeOther || p.Location != path+"?sent=1" {
			t.Fatalf("send: %d %q %s", p.Status, p.Location, p.Body)
		}
	}
	wantContains(t, b.get(path+"?sent=1"), `id="sent"`)
	if n := env.Count(`SELECT count(*) FROM emails WHERE to_addr = 'ada@example.test' AND body LIKE '%' || $1 || '%'`, l.URL); n != 1 {
		t.Fatalf("%d e-mails to the recipient carrying the link's URL, want 1", n)
	}
	if n := env.Count(`SELECT count(*) FROM link_sends WHERE link_id = $1 AND email = 'ada@example.test' AND reminders
		AND next_reminder_at IS NOT NULL`, l.ID); n != 1 {
		t.Fatalf("%d sendings with a reminder due, want 1", n)
	}
	if n := env.Count(`SELECT count(*) FROM events WHERE merchant_id = $1 AND type = 'payment_link.sent'`, mid); n != 1 {
		t.Fatalf("%d payment_link.sent events, want 1", n)
	}

	// Without the box ticked, no reminder.
	if p := b.post(path+"/send", url.Values{"email": {"bob@example.test"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("send without reminders: %d %s", p.Status, p.Body)
	}
	if n := env.Count(`SELECT count(*) FROM link_sends WHERE email = 'bob@example.test' AND NOT reminders AND next_reminder_at IS NULL`); n != 1 {
		t.Fatal("a sending without reminders has one")
	}

	// A bad address: the page again, the error by the field, what was typed kept.
	p := b.post(path+"/send", url.Values{"email": {"not an address"}, "reminders": {"1"}})
	if p.Status != http.StatusBadRequest {
		t.Fatalf("bad address: %d", p.Status)
	}
	wantContains(t, p, `id="send-email-error"`, links.ErrEmailInvalid.Message, `value="not an address"`, `aria-invalid="true"`)

	// Up to 10 recipients a day; the 11th is refused in the page.
	for i := 2; i < links.MaxRecipientsPerDay; i++ {
		if p := b.post(path+"/send", url.Values{"email": {fmt.Sprintf("r%d@example.test", i)}}); p.Status != http.StatusSeeOther {
			t.Fatalf("recipient %d: %d %s", i+1, p.Status, p.Body)
		}
	}
	p = b.post(path+"/send", url.Values{"email": {"eleventh@example.test"}})
	if p.Status != http.StatusTooManyRequests {
		t.Fatalf("11th recipient: %d", p.Status)
	}
	wantContains(t, p, `id="send-error"`, links.ErrRecipientLimit.Message, `value="eleventh@example.test"`, `id="link-title"`)
	if n := env.Count(`SELECT count(*) FROM emails WHERE to_addr = 'eleventh@example.test'`); n != 0 {
		t.Fatal("the 11th recipient was e-mailed")
	}

	// A second link's form from another site, or from a sandboxed frame, is refused.
	l2 := env.CreateLink(creds, nil)
	for _, origin := range []string{"https://evil.example", "null"} {
		b.origin = origin
		if p := b.post("/dashboard/links/"+l2.ID+"/send", url.Values{"email": {"csrf@example.test"}}); p.Status != http.StatusForbidden ||
			!strings.Contains(p.Body, "origin_not_allowed") {
			t.Errorf("form from origin %q: %d", origin, p.Status)
		}
	}
	b.origin = apitest.Origin
	// Another merchant cannot send it.
	_, _ = env.SignUp("nosy-sender@shop.test")
	o := newBrowser(env)
	o.login("nosy-sender@shop.test")
	if p := o.post("/dashboard/links/"+l2.ID+"/send", url.Values{"email": {"csrf@example.test"}}); p.Status != http.StatusNotFound {
		t.Errorf("other merchant sends the link: %d", p.Status)
	}
	if n := env.Count(`SELECT count(*) FROM link_sends WHERE link_id = $1`, l2.ID); n != 0 {
		t.Fatalf("%d refused sendings were made", n)
	}

	// A deactivated link has no form, and a form sent anyway is refused in the page.
	if p := b.post("/dashboard/links/"+l2.ID+"/deactivate", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", p.Status)
	}
	if strings.Contains(b.get("/dashboard/links/"+l2.ID).Body, `/send#`) {
		t.Fatal("a deactivated link offers to send it")
	}
	p = b.post("/dashboard/links/"+l2.ID+"/send", url.Values{"email": {"late@example.test"}})
	if p.Status != http.StatusGone {
		t.Fatalf("send a deactivated link: %d", p.Status)
	}
	wantContains(t, p, `id="send-error"`, links.ErrLinkInactive.Message)
	if n := env.Count(`SELECT count(*) FROM link_sends WHERE link_id = $1`, l2.ID); n != 0 {
		t.Fatal("a deactivated link was sent")
	}
}

// A link's page shows where the shopper is sent after paying or giving
// up (success_url, cancel_url) and the link's metadata, labelled as such,
// as GET /v1/payment_links/{id} answers them.
func TestDashboardLinkShowsURLsAndMetadata(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("linkfacts@shop.test")
	l := env.CreateLink(creds, map[string]any{"success_url": "https://shop.test/thanks?o=A-17",
		"cancel_url": "https://shop.test/cart", "metadata": map[string]string{"order_id": "A-17", "Realm": "<b>x</b>"}})
	plain := env.CreateLink(creds, nil)
	b := newBrowser(env)
	b.login("linkfacts@shop.test")
	wantContains(t, b.get("/dashboard/links/"+l.ID),
		`<dt>Success URL</dt><dd id="success-url"><code>https://shop.test/thanks?o=A-17</code></dd>`,
		`<dt>Cancel URL</dt><dd id="cancel-url"><code>https://shop.test/cart</code></dd>`,
		`<dt>Metadata</dt>`, `<li><code>order_id</code> = A-17</li>`, `<li><code>Realm</code> = &lt;b&gt;x&lt;/b&gt;</li>`)
	wantContains(t, b.get("/dashboard/links/"+plain.ID), `<dd id="success-url">—</dd>`, `<dd id="cancel-url">—</dd>`,
		`<dd id="metadata">—</dd>`)
}
