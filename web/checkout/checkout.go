// Package checkout holds the hosted checkout's browser pages: server-rendered
// html/template pages, a small vanilla script per page and one stylesheet,
// embedded into the binary. Other browser pages (the wallet) reuse the
// layout ("layout" template), the stylesheet and SetSecurityHeaders.
//
// Pages never carry inline script or style: the Content-Security-Policy
// allows scripts and styles from this origin only, so an injected <script>
// cannot run even if escaping were ever missed.
//
// Embedded payment forms use a frame-friendly layout, layout-embed.html,
// with embed.js (postMessage to the merchant's page, resizing, appearance).
// Its pages are the embed-*.html templates, plus the pages listed in
// embedVariants rendered in that layout as "embed/<name>". Their data must
// have the fields ParentOrigin (the merchant page's origin, the only one
// embed.js talks to) and ParentMessage (JSON of a message to post on
// load, or "").
package checkout

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
)

//go:embed templates/*.html static/*
var files embed.FS

// AssetsPrefix is the URL path under which Static is served.
const AssetsPrefix = "/assets/"

// Pages renders the page templates.
type Pages struct {
	pages   map[string]*template.Template
	version map[string]string // asset name → short content hash, for cache busting
}

// embedVariants are the pages also rendered in the embed layout.
var embedVariants = []string{"challenge", "error", "receipt"}

// Parse parses every page in templates/ with the shared layout and the
// partials (partial-*.html, templates shared by pages). A page is any
// template file but those; it defines "title" and "content" and
// is rendered by its file name without .html (embed-*.html pages, and the
// "embed/" variants of embedVariants, with layout-embed.html).
func Parse() (*Pages, error) {
	p := &Pages{pages: map[string]*template.Template{}, version: map[string]string{}}
	statics, err := fs.Glob(files, "static/*")
	if err != nil {
		return nil, err
	}
	for _, name := range statics {
		b, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		p.version[path.Base(name)] = hex.EncodeToString(sum[:6])
	}
	funcs := template.FuncMap{"asset": p.asset}
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".html")
		layouts := map[string]string{}
		switch {
		case strings.HasPrefix(base, "layout"), strings.HasPrefix(base, "partial-"):
			continue
		case strings.HasPrefix(base, "embed-"):
			layouts[base] = "templates/layout-embed.html"
		default:
			layouts[base] = "templates/layout.html"
			if slices.Contains(embedVariants, base) {
				layouts["embed/"+base] = "templates/layout-embed.html"
			}
		}
		for page, layout := range layouts {
			t, err := template.New(page).Funcs(funcs).ParseFS(files, layout, "templates/partial-*.html", name)
			if err != nil {
				return nil, fmt.Errorf("parse %s: %w", name, err)
			}
			p.pages[page] = t
		}
	}
	return p, nil
}

// asset returns the URL of a static file with its content hash, so it can
// be cached for a long time and still change on deploy.
func (p *Pages) asset(name string) (string, error) {
	v, ok := p.version[name]
	if !ok {
		return "", fmt.Errorf("no asset %q", name)
	}
	return AssetsPrefix + name + "?v=" + v, nil
}

// Render writes page name with data into w. It renders into a buffer first,
// so a template error never leaves half a page behind.
func (p *Pages) Render(w io.Writer, name string, data any) error {
	t, ok := p.pages[name]
	if !ok {
		return fmt.Errorf("no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Static returns the stylesheet and scripts, to be served under
// AssetsPrefix.
func Static() fs.FS {
	sub, _ := fs.Sub(files, "static")
	return sub
}

// SetSecurityHeaders sets the headers every HTML page carries: a strict
// Content-Security-Policy (scripts, styles and fetches from this origin
// only; no inline script; frameAncestors decides who may frame the page,
// "'none'" for the hosted checkout), nosniff, no Referer (checkout URLs
// carry a signature, which must not leak to the merchant's or anyone's
// site), no caching, and a same-origin opener.
func SetSecurityHeaders(h http.Header, frameAncestors string) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors "+frameAncestors)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	if frameAncestors == "'none'" {
		h.Set("X-Frame-Options", "DENY")
	}
}
