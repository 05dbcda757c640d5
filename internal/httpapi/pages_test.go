package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
)

func TestAssets(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	res := e.Do(apitest.Req{Method: "GET", Path: "/assets/checkout.css"})
	if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") ||
		res.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(string(res.Body), ":root") {
		t.Fatalf("GET checkout.css = %d %v", res.Status, res.Header)
	}
	for _, p := range []string{"/assets/nope.css", "/assets/", "/assets/../server.go"} {
		if res := e.Do(apitest.Req{Method: "GET", Path: p}); res.Status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, res.Status)
		}
	}
}
