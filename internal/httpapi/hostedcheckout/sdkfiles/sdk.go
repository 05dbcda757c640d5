// Package sdkfiles serves the browser SDK (sdk/js) to any site, a part of
// the hosted checkout beside its pages: /sdk/paylink.js (classic script),
// /sdk/paylink.mjs and /sdk/return.mjs (ES modules), with a short cache,
// and the same under /sdk/<version>/, cached for a year.
package sdkfiles

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/httpapi/edge"
	sdkjs "github.com/paylink/paylink/sdk/js"
)

// Server serves the browser SDK's files at /sdk/<name> (short cache) and
// /sdk/<version>/<name> (cached for a year: a version's files never
// change).
type Server struct {
	edge    *edge.Edge
	version string
	files   map[string][]byte // paylink.js, paylink.mjs, return.mjs
}

// New reads the SDK's files and version, to be served on e.
func New(e *edge.Edge) (*Server, error) {
	v, err := sdkjs.Version()
	if err != nil {
		return nil, err
	}
	out := &Server{edge: e, version: v, files: map[string][]byte{}}
	for _, name := range []string{"paylink.js", "paylink.mjs", "return.mjs"} {
		b, err := sdkjs.Files.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("sdk: %w", err)
		}
		out.files[name] = b
	}
	return out, nil
}

//go:embed openapi/*.json
var openAPIFiles embed.FS

// OpenAPI is the section's OpenAPI part (see apidoc.Build).
func OpenAPI() fs.FS { return openAPIFiles }

// Routes are the SDK's files, public and unlimited; HEAD for link checkers
// and CDNs.
func (s *Server) Routes() []edge.Route {
	sdk := func(method, path, doc string) edge.Route {
		return edge.Route{Method: method, Path: path, Doc: doc, Page: s.serveSDK}
	}
	return []edge.Route{
		sdk("GET", "/sdk/paylink.js", "getSDKScript"),
		sdk("HEAD", "/sdk/paylink.js", "headSDKScript"),
		sdk("GET", "/sdk/paylink.mjs", "getSDKModule"),
		sdk("HEAD", "/sdk/paylink.mjs", "headSDKModule"),
		sdk("GET", "/sdk/:version/paylink.js", "getVersionedSDKScript"),
		sdk("HEAD", "/sdk/:version/paylink.js", "headVersionedSDKScript"),
		sdk("GET", "/sdk/:version/paylink.mjs", "getVersionedSDKModule"),
		sdk("HEAD", "/sdk/:version/paylink.mjs", "headVersionedSDKModule"),
		sdk("GET", "/sdk/return.mjs", "getReturnModule"),
		sdk("HEAD", "/sdk/return.mjs", "headReturnModule"),
		sdk("GET", "/sdk/:version/return.mjs", "getVersionedReturnModule"),
		sdk("HEAD", "/sdk/:version/return.mjs", "headVersionedReturnModule"),
	}
}

// serveSDK serves the SDK to any site: as a classic script or an ES module
// (imported cross-origin, hence CORS for everyone: the files are public
// and carry no credentials).
func (s *Server) serveSDK(c *gin.Context) {
	name := c.FullPath()[strings.LastIndexByte(c.FullPath(), '/')+1:]
	cache := "public, max-age=300"
	if v := c.Param("version"); v != "" {
		if v != s.version {
			s.edge.WriteError(c, edge.ErrRouteNotFound.WithMessage("No such SDK version; this server has "+s.version+"."))
			return
		}
		cache = "public, max-age=31536000, immutable"
	}
	h := c.Writer.Header()
	h.Set("Cache-Control", cache)
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Paylink-SDK-Version", s.version)
	c.Data(http.StatusOK, "text/javascript; charset=utf-8", s.files[name])
}
