package dashboard_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	"github.com/paylink/paylink/internal/wire"
)

// formBody is a valid new-form POST: a fixed 25.00 USD form on the shop.
func formBody() url.Values {
	return url.Values{"title": {"Beans"}, "pricing": {"fixed"}, "amount": {"25.00"}, "currency": {"USD"},
		"allowed_origins": {apitest.ShopOrigin}}
}

var formLocation = regexp.MustCompile(`^/dashboard/forms/(pform_[0-9a-z]+)\?created=1$`)

// createForm posts form and returns the new form's id.
func (b *browser) createForm(form url.Values) string {
	b.t.Helper()
	p := b.post("/dashboard/forms", form)
	m := formLocation.FindStringSubmatch(p.Location)
	if p.Status != http.StatusSeeOther || m == nil {
		b.t.Fatalf("create form: %d %q %s", p.Status, p.Location, p.Body)
	}
	return m[1]
}

// apiForm is form id as the merchant API answers it.
func apiForm(t *testing.T, env *apitest.Env, c apitest.Creds, id string) wire.PaymentForm {
	t.Helper()
	res := env.Do(apitest.Req{Method: "GET", Path: "/v1/payment_forms/" + id, Auth: &c})
	if res.Status != http.StatusOK {
		t.Fatalf("GET form %s: %d %s", id, res.Status, res.Body)
	}
	var f wire.PaymentForm
	res.Decode(t, &f)
	return f
}

// A merchant with no forms is told what to do; a form made in the
// dashboard is the API's form, its page has the snippet, the preview and
// its payments; it can be edited, and deactivated after a confirmation,
// after which it can no longer be edited.
func TestDashboardFormLifecycle(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("forms@shop.test")
	b := newBrowser(env)
	b.login("forms@shop.test")
	wantContains(t, b.get("/dashboard/forms"), `id="forms-empty"`, `href="/dashboard/forms/new"`, `aria-current="page">Forms</a>`)
	wantContains(t, b.get("/dashboard/forms/new"), `name="idempotency_key"`, `<option value="USD" selected>`)

	form := formBody()
	form.Set("pricing", "range")
	form.Set("amount_min", "5")
	form.Set("amount_max", "500.00")
	form.Set("collect_phone", "1")
	form.Set("allowed_origins", apitest.ShopOrigin+"\r\nhttp://localhost:8081\r\n")
	form.Set("success_url", "https://shop.example/thanks")
	form.Set("realm", "beans")
	form.Set("metadata", "sku=B-1\nsize = large")
	id := b.createForm(form)
	f := apiForm(t, env, creds, id)
	if f.Amount != nil || *f.AmountMin != 500 || *f.AmountMax != 50000 || f.Currency != "USD" || f.Status != "active" ||
		strings.Join(f.AllowedOrigins, " ") != "https://shop.example http://localhost:8081" ||
		strings.Join(f.Collect, " ") != "email name phone" || *f.Realm != "beans" || f.Metadata["size"] != "large" ||
		*f.SuccessURL != "https://shop.example/thanks" {
		t.Fatalf("form made in the dashboard: %+v", f)
	}

	p := b.get("/dashboard/forms/" + id + "?created=1")
	wantContains(t, p, "Form created.", "$5.00 – $500.00", `src="/embed/forms/`+id+`/preview"`,
		`/sdk/paylink.js&#34;&gt;&lt;/script&gt;`, `form: &#34;`+id+`&#34;`,
		`data-copy="snippet"`, `id="form-payments-empty"`)
	csp := p.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("form page CSP %q: want frame-src 'self' and frame-ancestors 'none'", csp)
	}
	list := b.get("/dashboard/forms")
	wantContains(t, list, `href="/dashboard/forms/`+id+`"`, "Beans", "$5.00 – $500.00", "https://shop.example, http://localhost:8081")

	// Paid through the form, the payment is on the form's page.
	pay := env.Pay("/embed/forms/"+id+"?parent_origin="+url.QueryEscape(apitest.ShopOrigin),
		withAmountAndPhone(apitest.CardBody("4242424242424242")), "form-pay-1")
	if pay.Status != http.StatusOK {
		t.Fatalf("pay the form: %d %s", pay.Status, pay.Body)
	}
	wantContains(t, b.get("/dashboard/forms/"+id), "$12.00", "ada@example.test", "succeeded")
	other := env.CreateForm(creds, nil)
	if res := env.Pay("/embed/forms/"+other.ID+"?parent_origin="+url.QueryEscape(apitest.ShopOrigin),
		apitest.CardBody("4242424242424242"), "form-pay-2"); res.Status != http.StatusOK {
		t.Fatalf("pay the other form: %d %s", res.Status, res.Body)
	}
	filtered := b.get("/dashboard/payments?payment_form=" + id)
	wantContains(t, filtered, "$12.00", `id="payment_form" name="payment_form" value="`+id+`"`)
	if strings.Contains(filtered.Body, ">$25.00</a>") {
		t.Fatalf("the payments filtered by form list another form's payment:\n%s", filtered.Body)
	}
	wantContains(t, b.get("/dashboard/payments?payment_form=plink_1"), "payment_form must be a payment form id")
	// An edit the API refuses comes back on the edit page, for this form.
	bad := formBody()
	bad.Set("allowed_origins", "ftp://shop.example")
	p = b.post("/dashboard/forms/"+id, bad)
	wantContains(t, p, "allowed_origins must list 1 to 10", `action="/dashboard/forms/`+id+`"`, "Save changes")
	if p.Status != http.StatusBadRequest {
		t.Fatalf("refused edit: %d", p.Status)
	}

	// Edit: the page is filled with the form; a save changes it to a fixed
	// amount, the API sees the change.
	wantContains(t, b.get("/dashboard/forms/"+id+"/edit"), `value="5.00"`, `value="500.00"`, `id="pricing-range" name="pricing" type="radio" value="range" checked`,
		"https://shop.example\nhttp://localhost:8081", "size=large\nsku=B-1", `id="collect_phone" name="collect_phone" type="checkbox" value="1" checked`)
	edit := formBody()
	edit.Set("title", "Roasted beans")
	edit.Set("amount", "30")
	p = b.post("/dashboard/forms/"+id, edit)
	if p.Status != http.StatusSeeOther || p.Location != "/dashboard/forms/"+id+"?saved=1" {
		t.Fatalf("save form: %d %q %s", p.Status, p.Location, p.Body)
	}
	f = apiForm(t, env, creds, id)
	if f.Title != "Roasted beans" || f.Amount == nil || *f.Amount != 3000 || f.AmountMin != nil || len(f.Metadata) != 0 ||
		strings.Join(f.Collect, " ") != "email name" {
		t.Fatalf("edited form: %+v", f)
	}

	// Deactivate, through the confirmation page.
	wantContains(t, b.get("/dashboard/forms/"+id+"/deactivate"), "Deactivate “Roasted beans”?", `id="confirm-deactivate"`)
	p = b.post("/dashboard/forms/"+id+"/deactivate", url.Values{})
	if p.Status != http.StatusSeeOther || p.Location != "/dashboard/forms/"+id {
		t.Fatalf("deactivate: %d %q %s", p.Status, p.Location, p.Body)
	}
	if f = apiForm(t, env, creds, id); f.Status != "inactive" {
		t.Fatalf("deactivated form is %s", f.Status)
	}
	p = b.get("/dashboard/forms/" + id)
	wantContains(t, p, "inactive", "Deactivated")
	if strings.Contains(p.Body, "/preview") || strings.Contains(p.Body, "/edit") {
		t.Fatal("an inactive form's page offers a preview or an edit")
	}
	if p := b.get("/dashboard/forms/" + id + "/edit"); p.Status != http.StatusGone {
		t.Fatalf("edit an inactive form: %d", p.Status)
	}
	if p := b.post("/dashboard/forms/"+id, formBody()); p.Status != http.StatusGone {
		t.Fatalf("save an inactive form: %d", p.Status)
	}
	wantContains(t, b.get("/dashboard/forms?status=inactive"), "Roasted beans")
	if active := b.get("/dashboard/forms?status=active"); !strings.Contains(active.Body, "Donation") || strings.Contains(active.Body, "Roasted beans") {
		t.Fatalf("active forms:\n%s", active.Body)
	}
	wantContains(t, b.get("/dashboard/forms?realm=none"), "No forms match these filters.")
}

// withAmountAndPhone adds what a range form collecting a phone needs:
// 12.00 and a phone number.
func withAmountAndPhone(body map[string]any) map[string]any {
	body["amount"] = 1200
	body["phone"] = "+1 415 555 0100"
	return body
}

// A refused form comes back as typed with the API's message next to the
// field it concerns, and nothing is stored.
func TestDashboardFormErrors(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("form-errors@shop.test")
	if res := env.Do(apitest.Req{Method: "PATCH", Path: "/v1/merchant", Auth: &creds,
		Body: map[string]any{"currencies": []string{"USD", "JPY"}}}); res.Status != http.StatusOK {
		t.Fatalf("settings: %d %s", res.Status, res.Body)
	}
	b := newBrowser(env)
	b.login("form-errors@shop.test")
	for _, tc := range []struct {
		name, field, value, want string
		param                    string // the field the message is next to
	}{
		{"no title", "title", "", "title must be 1 to 100 characters.", "title"},
		{"no origin", "allowed_origins", "", "allowed_origins must list 1 to 10", "allowed_origins"},
		{"bad origin", "allowed_origins", "https://shop.example\nshop.example/path", "allowed_origins must list 1 to 10", "allowed_origins"},
		{"bad amount", "amount", "12.345", "Enter the amount as a number, like 12.50.", "amount"},
		{"zero amount", "amount", "0", "amount", "amount"},
		{"yen with cents", "currency", "JPY", "Enter the amount as a whole number; this currency has no minor unit.", "amount"},
		{"currency not accepted", "currency", "EUR", "", "currency"},
		{"bad success URL", "success_url", "javascript:alert(1)", "", "success_url"},
		{"bad realm", "realm", "Not A Realm!", "", "realm"},
		{"bad metadata", "metadata", "no equals sign", "Write one key=value pair per line.", "metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := formBody()
			form.Set(tc.field, tc.value)
			p := b.post("/dashboard/forms", form)
			if p.Status != http.StatusBadRequest {
				t.Fatalf("%s=%q: %d %q", tc.field, tc.value, p.Status, p.Location)
			}
			wantContains(t, p, html.EscapeString(tc.want), `name="title"`)
			// The message is the field's: right after its input.
			if !regexp.MustCompile(`(?s)name="` + tc.param + `".{0,700}?class="field-error" role="alert"`).MatchString(p.Body) {
				t.Fatalf("no error next to %s:\n%s", tc.param, p.Body)
			}
			if tc.field != "title" && !strings.Contains(p.Body, `value="Beans"`) {
				t.Fatal("the typed title is lost")
			}
		})
	}
	range_ := formBody()
	range_.Set("pricing", "range")
	range_.Set("amount_min", "50")
	range_.Set("amount_max", "5")
	p := b.post("/dashboard/forms", range_)
	wantContains(t, p, "amount_max must be at least amount_min.", `value="50"`)
	if n := env.Count(`SELECT count(*) FROM payment_forms`); n != 0 {
		t.Fatalf("%d forms stored by refused posts", n)
	}
}

// Another merchant can neither see nor change a form by its id, and a
// form POST from another site is refused before anything happens.
func TestDashboardFormsBelongToTheirMerchant(t *testing.T) {
	env := apitest.New(t)
	_, _ = env.SignUp("a-forms@shop.test")
	_, otherCreds := env.SignUp("b-forms@shop.test")
	a := newBrowser(env)
	a.login("a-forms@shop.test")
	id := a.createForm(formBody())
	o := newBrowser(env)
	o.login("b-forms@shop.test")
	for _, path := range []string{"/dashboard/forms/" + id, "/dashboard/forms/" + id + "/edit", "/dashboard/forms/" + id + "/deactivate"} {
		if p := o.get(path); p.Status != http.StatusNotFound || strings.Contains(p.Body, "Beans") {
			t.Errorf("other merchant GET %s: %d", path, p.Status)
		}
	}
	edit := formBody()
	edit.Set("title", "Stolen")
	for _, path := range []string{"/dashboard/forms/" + id, "/dashboard/forms/" + id + "/deactivate"} {
		if p := o.post(path, edit); p.Status != http.StatusNotFound {
			t.Errorf("other merchant POST %s: %d", path, p.Status)
		}
	}
	if strings.Contains(o.get("/dashboard/forms").Body, id) {
		t.Error("another merchant lists the form")
	}
	if n := env.Count(`SELECT count(*) FROM payment_forms WHERE id = $1 AND title = 'Beans' AND status = 'active'`, id); n != 1 {
		t.Fatal("the other merchant changed the form")
	}
	apitest.WantError(t, env.Do(apitest.Req{Method: "GET", Path: "/v1/payment_forms/" + id, Auth: &otherCreds}), 404, "payment_form_not_found")

	// CSRF: the same posts from another site, or from a sandboxed frame.
	for _, origin := range []string{"https://evil.example", "null"} {
		a.origin = origin
		if p := a.post("/dashboard/forms", formBody()); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "origin_not_allowed") {
			t.Errorf("create from %q: %d %s", origin, p.Status, p.Body)
		}
		if p := a.post("/dashboard/forms/"+id+"/deactivate", url.Values{}); p.Status != http.StatusForbidden {
			t.Errorf("deactivate from %q: %d", origin, p.Status)
		}
	}
	if n := env.Count(`SELECT count(*) FROM payment_forms WHERE status = 'active'`); n != 1 {
		t.Fatalf("%d active forms after refused posts; want 1", n)
	}
}

// A form posted twice with its one idempotency_key (a double click, a
// reload) makes one form and sends both to it; edits and deactivation
// act once too.
func TestDashboardFormDoubleSubmit(t *testing.T) {
	env := apitest.New(t)
	_, _ = env.SignUp("twice-forms@shop.test")
	b := newBrowser(env)
	b.login("twice-forms@shop.test")
	form := formBody()
	form.Set("idempotency_key", "dash_form_once")
	first := b.createForm(form)
	if again := b.createForm(form); again != first {
		t.Fatalf("second submit made %s, first %s", again, first)
	}
	if n := env.Count(`SELECT count(*) FROM payment_forms`); n != 1 {
		t.Fatalf("%d forms after a double submit", n)
	}
	// The same key with other fields is a different request: refused.
	other := formBody()
	other.Set("title", "Other")
	other.Set("idempotency_key", "dash_form_once")
	if p := b.post("/dashboard/forms", other); p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("key reused for another form: %d", p.Status)
	}

	edit := formBody()
	edit.Set("title", "Once")
	edit.Set("idempotency_key", "dash_edit_once")
	for range 2 {
		if p := b.post("/dashboard/forms/"+first, edit); p.Status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", p.Status, p.Body)
		}
	}
	stop := url.Values{"idempotency_key": {"dash_stop_once"}}
	for range 2 {
		if p := b.post("/dashboard/forms/"+first+"/deactivate", stop); p.Status != http.StatusSeeOther {
			t.Fatalf("deactivate: %d %s", p.Status, p.Body)
		}
	}
	if n := env.Count(`SELECT count(*) FROM idempotency_keys WHERE key IN ('dash_edit_once', 'dash_stop_once')`); n != 2 {
		t.Fatalf("%d stored answers for the edit and the deactivation; want 2", n)
	}
}

// Every route of the Forms section is an operation of the published
// OpenAPI document.
func TestDashboardFormsInOpenAPI(t *testing.T) {
	env := apitest.New(t)
	res := env.Do(apitest.Req{Method: "GET", Path: "/v1/openapi.json"})
	var doc struct {
		Paths map[string]map[string]json.RawMessage
	}
	res.Decode(t, &doc)
	n := 0
	for _, r := range env.Server.Routes() {
		method, path, _ := strings.Cut(r, " ")
		if !strings.HasPrefix(path, "/dashboard/forms") && path != "/embed/forms/{id}/preview" {
			continue
		}
		n++
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("%s is not in the OpenAPI document", r)
		}
	}
	if n != 9 {
		t.Fatalf("%d routes of the Forms section and the preview; want 9", n)
	}
}

// A payment made through a form links to the form's page from its own
// page, as a link's payment links to the link.
func TestPaymentPageLinksToItsForm(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("payform@shop.test")
	f := env.CreateForm(creds, nil)
	res := env.Pay("/embed/forms/"+f.ID+"?parent_origin="+url.QueryEscape(apitest.ShopOrigin),
		apitest.CardBody("4242424242424242"), "form-page-link")
	if res.Status != http.StatusOK {
		t.Fatalf("pay the form: %d %s", res.Status, res.Body)
	}
	pay := apitest.PayAnswerOf(t, res).Payment
	b := newBrowser(env)
	b.login("payform@shop.test")
	wantContains(t, b.get("/dashboard/payments/"+pay.ID), `<dt>Form</dt><dd><a href="/dashboard/forms/`+f.ID+`">`+f.ID+`</a>`)
}

// An edit posted to a form that is not the merchant's, does not exist or
// is deactivated is an error page, whatever was typed: never a 400 edit
// page for a form the merchant cannot edit (whose "Back to the form" link
// would lead nowhere).
func TestEditOfAFormYouCannotEditIsAnErrorPage(t *testing.T) {
	env := apitest.New(t)
	_, creds := env.SignUp("formedit@shop.test")
	_, other := env.SignUp("formedit-other@shop.test")
	mine, closed, theirs := env.CreateForm(creds, nil), env.CreateForm(creds, nil), env.CreateForm(other, nil)
	if res := env.Do(apitest.Req{Method: "POST", Path: "/v1/payment_forms/" + closed.ID + "/deactivate", Auth: &creds}); res.Status != http.StatusOK {
		t.Fatalf("deactivate: %d %s", res.Status, res.Body)
	}
	b := newBrowser(env)
	b.login("formedit@shop.test")
	// Both an amount the page itself refuses and origins the API refuses.
	badAmount, badOrigins := formBody(), formBody()
	badAmount.Set("amount", "twelve")
	badOrigins.Set("allowed_origins", "ftp://shop.example")
	for _, c := range []struct {
		id   string
		want int
	}{{theirs.ID, b.get("/dashboard/forms/" + theirs.ID + "/edit").Status},
		{"pform_01m9902xn8ts4dq9zk4eewk5xx", http.StatusNotFound},
		{closed.ID, b.get("/dashboard/forms/" + closed.ID + "/edit").Status}} {
		for _, bad := range []url.Values{badAmount, badOrigins} {
			p := b.post("/dashboard/forms/"+c.id, bad)
			if p.Status != c.want || p.Status < 400 || strings.Contains(p.Body, "Save changes") {
				t.Errorf("edit of %s (%s): %d (want %d, the edit page's own answer), edit page shown: %v", c.id, bad.Encode(),
					p.Status, c.want, strings.Contains(p.Body, "Save changes"))
			}
		}
	}
	// The merchant's own active form still comes back on its edit page.
	wantContains(t, b.post("/dashboard/forms/"+mine.ID, badAmount), "Enter the amount", "Save changes")
	wantContains(t, b.post("/dashboard/forms/"+mine.ID, badOrigins), "allowed_origins must list 1 to 10", "Save changes")
}
