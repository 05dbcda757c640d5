package httpapi_test

import (
	"net/url"
	"testing"

	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/httpapi/apitest"
)

// TestHSTSWhenServedOverHTTPS: with an https base URL every answer (API,
// error, page, probe) tells browsers to use https only, for a year; with
// an http one none does, so a development host is not pinned to https.
func TestHSTSWhenServedOverHTTPS(t *testing.T) {
	t.Parallel()
	secure := apitest.New(t, func(d *httpapi.Deps) { d.BaseURL, _ = url.Parse("https://paylink.test") })
	plain := apitest.New(t)
	_, k := secure.SignUp("hsts@shop.test")
	for _, r := range []apitest.Req{
		{Method: "GET", Path: "/v1/merchant", Auth: &k},
		{Method: "GET", Path: "/v1/merchant"},
		{Method: "GET", Path: "/v1/no_such_route"},
		{Method: "GET", Path: "/"},
		{Method: "GET", Path: "/healthz"},
	} {
		if got := secure.Do(r).Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
			t.Errorf("https: %s %s: Strict-Transport-Security %q; want max-age=31536000", r.Method, r.Path, got)
		}
		r.Auth = nil
		if got := plain.Do(r).Header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("http: %s %s: Strict-Transport-Security %q; want none", r.Method, r.Path, got)
		}
	}
}
