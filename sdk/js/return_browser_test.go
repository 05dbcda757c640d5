package js

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/paylink/paylink/internal/browsertest"
)

// harness runs verifyReturn on every shared vector in the page and leaves
// the outcome in document.body.dataset.result.
const harness = `import { verifyReturn } from "/return.mjs";
const v = await (await fetch("/vectors.json")).json();
const out = { valid: [], invalid: [] };
for (const c of v.valid) {
  try {
    const r = await verifyReturn(c.url, v.keys);
    out.valid.push(r.payment === c.payment && r.status === c.status && r.source === c.source && r.timestamp === c.ts ? "ok" : JSON.stringify(r));
  } catch (e) {
    out.valid.push(c.name + ": " + e);
  }
}
for (const c of v.invalid) {
  try {
    await verifyReturn(c.url, v.keys);
    out.invalid.push("accepted: " + c.name);
  } catch (e) {
    out.invalid.push(e.name);
  }
}
document.body.dataset.result = JSON.stringify(out);
`

// TestVerifyReturnInChromium runs the SDK's verifyReturn in a real browser
// (WebCrypto's Ed25519) against testdata/return_vectors.json, the vectors
// the Go signer and the Node tests use.
func TestVerifyReturnInChromium(t *testing.T) {
	module, err := os.ReadFile("return.mjs")
	if err != nil {
		t.Fatal(err)
	}
	vectors, err := os.ReadFile("../../testdata/return_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	serve := func(typ string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", typ)
			_, _ = w.Write(body)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", serve("text/html", []byte(`<!doctype html><title>verifyReturn</title><script type="module" src="/run.mjs"></script>`)))
	mux.Handle("GET /run.mjs", serve("text/javascript", []byte(harness)))
	mux.Handle("GET /return.mjs", serve("text/javascript", module))
	mux.Handle("GET /vectors.json", serve("application/json", vectors))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx := browsertest.New(t)
	if _, err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	result, err := chromedp.Run(ctx, chromedp.Poll[string](`document.body && document.body.dataset.result`,
		chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		t.Fatalf("waiting for the page's result: %v", err)
	}
	var out struct{ Valid, Invalid []string }
	if err := json.Unmarshal([]byte(result), &out); err != nil {
		t.Fatalf("result %q: %v", result, err)
	}
	var v struct{ Valid, Invalid []json.RawMessage }
	_ = json.Unmarshal(vectors, &v)
	if len(out.Valid) != len(v.Valid) || len(out.Invalid) != len(v.Invalid) {
		t.Fatalf("the page checked %d valid and %d invalid returns; the vectors have %d and %d", len(out.Valid), len(out.Invalid), len(v.Valid), len(v.Invalid))
	}
	for i, r := range out.Valid {
		if r != "ok" {
			t.Errorf("valid return %d in Chromium: %s", i, r)
		}
	}
	for i, r := range out.Invalid {
		if r != "ReturnVerificationError" {
			t.Errorf("invalid return %d in Chromium: %s", i, r)
		}
	}
}
