package dashboard_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
)

// In Chromium, a merchant with no forms follows the empty state to a new
// form, is told what is wrong with an origin, creates a form whose amount
// the customer chooses, copies its snippet, sees the preview render the
// form, and deactivates it after the confirmation page.
func TestBrowserForms(t *testing.T) {
	e := newBrowserEnv(t)
	_, _ = e.SignUp("forms-ui@shop.test")
	ctx := browsertest.New(t)
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard/login")))
	browsertest.Wait(t, ctx, `!!document.getElementById("login-submit")`)
	must(t, chromedp.Do(ctx, chromedp.SendKeys("#email", "forms-ui@shop.test"), chromedp.SendKeys("#password", testPassword),
		chromedp.Click("#login-submit")))
	browsertest.Wait(t, ctx, `location.pathname === "/dashboard" && !!document.querySelector(".logout")`)

	// From the navigation to the empty list, and on to a new form.
	must(t, chromedp.Do(ctx, chromedp.Click(`nav a[href="/dashboard/forms"]`)))
	browsertest.Wait(t, ctx, `location.pathname === "/dashboard/forms" && !!document.getElementById("forms-empty")`)
	shots(t, ctx, "01-forms-empty")
	must(t, chromedp.Do(ctx, chromedp.Click(`#forms-empty a`)))
	browsertest.Wait(t, ctx, `location.pathname === "/dashboard/forms/new" && !!document.getElementById("save-form")`)
	// Only the pricing chosen shows its amount fields.
	browsertest.Wait(t, ctx, `!document.getElementById("amount").closest(".field").hidden && document.getElementById("amount_min").closest(".field").hidden`)
	must(t, chromedp.Do(ctx, chromedp.Click("#pricing-range")))
	browsertest.Wait(t, ctx, `document.getElementById("amount").closest(".field").hidden && !document.getElementById("amount_min").closest(".field").hidden`)
	must(t, chromedp.Do(ctx,
		chromedp.SendKeys("#title", "A bag of beans"),
		chromedp.SendKeys("#amount_min", "5"),
		chromedp.SendKeys("#amount_max", "500"),
		chromedp.Click("#collect_phone"),
		chromedp.SendKeys("#allowed_origins", "shop.example/checkout"),
		chromedp.Click("#save-form")))
	browsertest.Wait(t, ctx, `document.getElementById("allowed_origins").getAttribute("aria-invalid") === "true" &&
		document.getElementById("allowed_origins").closest(".field").querySelector(".field-error").textContent.includes("allowed_origins must list 1 to 10")`)
	// The typed form is kept, with the range chosen.
	browsertest.Wait(t, ctx, `document.getElementById("title").value === "A bag of beans" && document.getElementById("pricing-range").checked &&
		!document.getElementById("amount_min").closest(".field").hidden && document.getElementById("collect_phone").checked`)
	shots(t, ctx, "02-form-origin-error")

	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(document.getElementById("allowed_origins").value = "http://localhost:8081", true)`))
	must(t, err)
	must(t, chromedp.Do(ctx, chromedp.Click("#save-form")))
	browsertest.Wait(t, ctx, `location.pathname.startsWith("/dashboard/forms/pform_") && !!document.getElementById("snippet")`)
	formID := browsertest.WaitEval(t, ctx, "the form's id", `document.getElementById("form-id").textContent`,
		func(s string) bool { return len(s) > len("pform_") })
	browsertest.Wait(t, ctx, `document.getElementById("snippet").value.includes('form: "`+formID+`"') &&
		document.getElementById("snippet").value.includes("/sdk/paylink.js")`)
	// The preview renders the form as shoppers see it, unable to pay.
	browsertest.Wait(t, ctx, `(() => { const d = document.getElementById("form-preview").contentDocument;
		return !!d && !!d.getElementById("pay-form") && d.getElementById("form-title").textContent === "A bag of beans" &&
			!!d.getElementById("amount-input") && !!d.getElementById("phone") && d.getElementById("pay-button").disabled &&
			document.getElementById("form-preview").getBoundingClientRect().height >= d.getElementById("pay-button").getBoundingClientRect().bottom; })()`)
	must(t, chromedp.Do(ctx, chromedp.Click("#copy-snippet")))
	browsertest.WaitText(t, ctx, `[data-copied-for="snippet"]`, "Copied.")
	shots(t, ctx, "03-form")

	// It is in the list.
	must(t, chromedp.Do(ctx, chromedp.Navigate(e.Base+"/dashboard/forms")))
	browsertest.Wait(t, ctx, `!!document.getElementById("forms") && document.getElementById("forms").textContent.includes("A bag of beans") &&
		document.getElementById("forms").textContent.includes("$5.00 – $500.00")`)
	shots(t, ctx, "04-forms")

	// Deactivate, through the confirmation.
	must(t, chromedp.Do(ctx, chromedp.Click("#forms a")))
	browsertest.Wait(t, ctx, `!!document.getElementById("deactivate-form")`)
	must(t, chromedp.Do(ctx, chromedp.Click("#deactivate-form")))
	browsertest.Wait(t, ctx, `location.pathname.endsWith("/deactivate") && !!document.getElementById("confirm-deactivate")`)
	shots(t, ctx, "05-deactivate-confirm")
	must(t, chromedp.Do(ctx, chromedp.Click("#confirm-deactivate")))
	browsertest.Wait(t, ctx, `location.pathname === "/dashboard/forms/`+formID+`" && document.querySelector("#form-title .status").textContent === "inactive" &&
		!document.getElementById("form-preview") && !document.getElementById("deactivate-form")`)
	shots(t, ctx, "06-form-inactive")
	if n := e.Count(`SELECT count(*) FROM payment_forms WHERE id = $1 AND status = 'inactive'`, formID); n != 1 {
		t.Fatal("the form is not inactive")
	}
}
