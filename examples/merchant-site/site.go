// Package merchantsite is an example merchant's web site that takes
// payments with an embedded Paylink payment form: the SDK's script tag, a
// div and one Paylink.mount call (index.html, shop.js). `paylink dev`
// serves it on a second local origin, and the browser tests use it.
package merchantsite

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
)

//go:embed index.html shop.js shop.css
var files embed.FS

// Handler serves the site, embedding payment form formID of the Paylink
// server at api (its base URL, e.g. http://localhost:8080).
func Handler(api, formID string) (http.Handler, error) {
	t, err := template.ParseFS(files, "index.html")
	if err != nil {
		return nil, err
	}
	var page bytes.Buffer
	if err := t.Execute(&page, struct{ API, Form string }{api, formID}); err != nil {
		return nil, err
	}
	static := map[string]string{"/shop.js": "text/javascript; charset=utf-8", "/shop.css": "text/css; charset=utf-8"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.URL.Path == "/" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(page.Bytes())
			return
		}
		ct, ok := static[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		b, _ := files.ReadFile(r.URL.Path[1:])
		w.Header().Set("Content-Type", ct)
		w.Write(b)
	}), nil
}
