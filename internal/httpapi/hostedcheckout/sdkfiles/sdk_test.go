package sdkfiles_test

import (
	"net/http"
	"os"
	"testing"

	"github.com/paylink/paylink/internal/httpapi/apitest"
	sdkjs "github.com/paylink/paylink/sdk/js"
)

func TestSDKIsServedForAnySite(t *testing.T) {
	t.Parallel()
	e := apitest.New(t)
	version, err := sdkjs.Version()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, file, cache string
	}{
		{"/sdk/paylink.js", "paylink.js", "public, max-age=300"},
		{"/sdk/paylink.mjs", "paylink.mjs", "public, max-age=300"},
		{"/sdk/" + version + "/paylink.js", "paylink.js", "public, max-age=31536000, immutable"},
		{"/sdk/" + version + "/paylink.mjs", "paylink.mjs", "public, max-age=31536000, immutable"},
		{"/sdk/return.mjs", "return.mjs", "public, max-age=300"},
		{"/sdk/" + version + "/return.mjs", "return.mjs", "public, max-age=31536000, immutable"},
	} {
		want, err := os.ReadFile("../../../../sdk/js/" + tc.file)
		if err != nil {
			t.Fatal(err)
		}
		res := e.Do(apitest.Req{Method: "GET", Path: tc.path, Header: map[string]string{"Origin": "https://shop.example"}})
		h := res.Header
		if res.Status != http.StatusOK || string(res.Body) != string(want) {
			t.Fatalf("%s: %d, %d bytes (want the %d bytes of %s)", tc.path, res.Status, len(res.Body), len(want), tc.file)
		}
		if h.Get("Content-Type") != "text/javascript; charset=utf-8" || h.Get("Cache-Control") != tc.cache ||
			h.Get("Access-Control-Allow-Origin") != "*" || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("X-Paylink-SDK-Version") != version {
			t.Fatalf("%s headers = %v", tc.path, h)
		}
	}
	head := e.Do(apitest.Req{Method: "HEAD", Path: "/sdk/" + version + "/paylink.mjs"})
	if head.Status != http.StatusOK || len(head.Body) != 0 || head.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("HEAD: %d %v", head.Status, head.Header)
	}
	head = e.Do(apitest.Req{Method: "HEAD", Path: "/sdk/return.mjs"})
	if head.Status != http.StatusOK || len(head.Body) != 0 || head.Header.Get("Cache-Control") != "public, max-age=300" {
		t.Fatalf("HEAD return.mjs: %d %v", head.Status, head.Header)
	}
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/sdk/0.0.1/paylink.js"}), http.StatusNotFound, "route_not_found")
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/sdk/0.0.1/return.mjs"}), http.StatusNotFound, "route_not_found")
	apitest.WantError(t, e.Do(apitest.Req{Method: "GET", Path: "/sdk/paylink.css"}), http.StatusNotFound, "route_not_found")
}
