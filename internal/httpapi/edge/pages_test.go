package edge

import (
	"bytes"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
)

type notice struct{ Icon, Heading, Message, Hint string }

// TestPagesEscapeAndLinkAssets parses a page on the shared layout, with
// an asset of its own registered after parsing.
func TestPagesEscapeAndLinkAssets(t *testing.T) {
	a, err := newAssets()
	if err != nil {
		t.Fatal(err)
	}
	files := fstest.MapFS{
		"templates/error.html": {Data: []byte(`{{define "title"}}{{.Heading}}{{end}}` +
			`{{define "scripts"}}<script src="{{asset "page.js"}}" defer></script>{{end}}` +
			`{{define "content"}}<h1>{{.Heading}}</h1><p>{{.Message}}</p>{{end}}`)},
		"static/page.js": {Data: []byte(`"use strict";`)},
	}
	page, err := a.Page("error", files, "templates/error.html")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Add(files, "static"); err != nil {
		t.Fatal(err)
	}
	if err := a.Add(files, "static"); err == nil {
		t.Fatal("an asset registered twice was accepted")
	}
	var buf bytes.Buffer
	if err := page.ExecuteTemplate(&buf, "layout", notice{Icon: "!", Heading: "Gone", Message: `<script>alert(1)</script>`}); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if strings.Contains(html, "<script>alert") {
		t.Fatal("template did not escape its data")
	}
	if !strings.Contains(html, `href="/assets/checkout.css?v=`) || !strings.Contains(html, `src="/assets/page.js?v=`) ||
		!strings.Contains(html, `name="viewport"`) {
		t.Fatalf("layout lacks stylesheet, script or viewport:\n%s", html)
	}
	if strings.Contains(html, "<script>") || strings.Contains(html, "style=") {
		t.Fatal("pages must carry no inline script or style (the CSP forbids them)")
	}
	b, err := fs.ReadFile(a.files["checkout.css"], "checkout.css")
	if err != nil || !bytes.Contains(b, []byte(":root")) {
		t.Fatalf("checkout.css: %v", err)
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := http.Header{}
	SetSecurityHeaders(h, "'none'")
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "*") {
		t.Errorf("CSP %q allows inline or wildcard sources", csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers = %v", h)
	}
	embed := http.Header{}
	SetSecurityHeaders(embed, "https://shop.test")
	if !strings.Contains(embed.Get("Content-Security-Policy"), "frame-ancestors https://shop.test") || embed.Get("X-Frame-Options") != "" {
		t.Errorf("embed headers = %v", embed)
	}
}
