package edge

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// HTML pages are server-rendered html/template pages in one shared
// layout (layout/layout.html: the "layout" template, which calls "title",
// "content" and optionally "scripts" and "header") with one shared
// stylesheet (layout/checkout.css); each audience adds its own pages,
// scripts and styles.
//
// Pages never carry inline script or style: the Content-Security-Policy
// allows scripts and styles from this origin only, so an injected <script>
// cannot run even if escaping were ever missed.

//go:embed layout
var layoutFiles embed.FS

// AssetsPrefix is the URL path under which the assets are served.
const AssetsPrefix = "/assets/"

// Assets are the static files (stylesheets, scripts) pages link to,
// served at /assets/<name> whichever audience brought them: the shared
// stylesheet and each audience's files. Every URL carries a content hash
// (?v=…), so browsers may keep a file for a year and still get a new one
// on deploy.
type Assets struct {
	files   map[string]fs.FS  // name → the file system holding it at the root
	version map[string]string // name → short content hash
}

func newAssets() (*Assets, error) {
	a := &Assets{files: map[string]fs.FS{}, version: map[string]string{}}
	shared, err := fs.Sub(layoutFiles, "layout")
	if err != nil {
		return nil, err
	}
	return a, a.addFile(shared, "checkout.css")
}

// Add registers every file of directory dir in files. It fails on a
// name another audience registered already: there is one /assets/
// namespace.
func (a *Assets) Add(files fs.FS, dir string) error {
	sub, err := fs.Sub(files, dir)
	if err != nil {
		return err
	}
	names, err := fs.Glob(sub, "*")
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := a.addFile(sub, name); err != nil {
			return err
		}
	}
	return nil
}

func (a *Assets) addFile(files fs.FS, name string) error {
	if _, taken := a.files[name]; taken {
		return fmt.Errorf("asset %s is registered twice", name)
	}
	b, err := fs.ReadFile(files, name)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	a.files[name], a.version[name] = files, hex.EncodeToString(sum[:6])
	return nil
}

// url returns the URL of asset name with its content hash; a template
// calls it as {{asset "name"}}.
func (a *Assets) url(name string) (string, error) {
	v, ok := a.version[name]
	if !ok {
		return "", fmt.Errorf("no asset %q", name)
	}
	return AssetsPrefix + name + "?v=" + v, nil
}

// Page parses one page named name: the shared layout, then the files of
// patterns in files (the page and its partials). Assets are resolved when
// the page renders, so they may be added after.
func (a *Assets) Page(name string, files fs.FS, patterns ...string) (*template.Template, error) {
	t, err := template.New(name).Funcs(a.funcs()).ParseFS(layoutFiles, "layout/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse the shared layout: %w", err)
	}
	if t, err = t.ParseFS(files, patterns...); err != nil {
		return nil, fmt.Errorf("parse page %s: %w", name, err)
	}
	return t, nil
}

// PageInLayout is Page for a page in a layout of its own audience (the
// embedded payment form's frame layout), the first of patterns, which
// defines "layout" in place of the shared one.
func (a *Assets) PageInLayout(name string, files fs.FS, patterns ...string) (*template.Template, error) {
	t, err := template.New(name).Funcs(a.funcs()).ParseFS(files, patterns...)
	if err != nil {
		return nil, fmt.Errorf("parse page %s: %w", name, err)
	}
	return t, nil
}

// PageWithFuncs is PageInLayout for pages that call functions of their
// own (funcs) beside asset.
func (a *Assets) PageWithFuncs(name string, funcs template.FuncMap, files fs.FS, patterns ...string) (*template.Template, error) {
	t, err := template.New(name).Funcs(a.funcs()).Funcs(funcs).ParseFS(files, patterns...)
	if err != nil {
		return nil, fmt.Errorf("parse page %s: %w", name, err)
	}
	return t, nil
}

// funcs are the functions every page may call: {{asset "name"}} is the
// URL of an asset.
func (a *Assets) funcs() template.FuncMap { return template.FuncMap{"asset": a.url} }

// ServeAsset answers GET /assets/*file with the registered file of that
// name, cacheable for a year (the URLs carry a content hash).
func (e *Edge) ServeAsset(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("file"), "/")
	if name == "" || strings.Contains(name, "/") {
		e.WriteError(c, ErrRouteNotFound)
		return
	}
	files, ok := e.assets.files[name]
	if !ok {
		files = embed.FS{} // empty: the file server's own 404
	}
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	c.FileFromFS(name, http.FS(files))
}

// Render answers an HTML page: page's "layout" template with data, and
// the security headers every page carries (SetSecurityHeaders, with
// frameAncestors). The page is rendered into a buffer first, so a
// template error never leaves half a page behind; it is logged, once.
func (e *Edge) Render(c *gin.Context, status int, page *template.Template, frameAncestors string, data any) {
	SetSecurityHeaders(c.Writer.Header(), frameAncestors)
	e.write(c, status, page, data)
}

// RenderFramingSelf is Render for a page that frames pages of this
// origin (frame-src 'self'), as the dashboard frames a payment form's
// preview; other sites stay unframeable by it.
func (e *Edge) RenderFramingSelf(c *gin.Context, status int, page *template.Template, frameAncestors string, data any) {
	h := c.Writer.Header()
	SetSecurityHeaders(h, frameAncestors)
	h.Set("Content-Security-Policy", h.Get("Content-Security-Policy")+"; frame-src 'self'")
	e.write(c, status, page, data)
}

// write answers page's "layout" template with data, rendered into a
// buffer first.
func (e *Edge) write(c *gin.Context, status int, page *template.Template, data any) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	var buf bytes.Buffer
	if err := page.ExecuteTemplate(&buf, "layout", data); err != nil {
		e.log.ErrorContext(c.Request.Context(), "render page", "page", page.Name(), "err", err, "request_id", RequestID(c))
		return
	}
	if _, err := c.Writer.Write(buf.Bytes()); err != nil {
		e.log.InfoContext(c.Request.Context(), "write page", "page", page.Name(), "err", err, "request_id", RequestID(c))
	}
}

// SetSecurityHeaders sets the headers every HTML page carries: a strict
// Content-Security-Policy (scripts, styles and fetches from this origin
// only; no inline script; frameAncestors decides who may frame the page,
// "'none'" for all but the embedded payment form), nosniff, no Referer
// (checkout URLs carry a signature, which must not leak to the merchant's
// or anyone's site), no caching, and a same-origin opener.
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
