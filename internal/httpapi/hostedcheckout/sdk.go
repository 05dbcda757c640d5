package hostedcheckout

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/httpapi/edge"
	sdkjs "github.com/paylink/paylink/sdk/js"
)

// sdkFiles are the browser SDK's files, served at /sdk/<name> (short
// cache) and /sdk/<version>/<name> (cached for a year: a version's files
// never change).
type sdkFiles struct {
	version string
	files   map[string][]byte // paylink.js, paylink.mjs, return.mjs
}

func loadSDK() (sdkFiles, error) {
	v, err := sdkjs.Version()
	if err != nil {
		return sdkFiles{}, err
	}
	out := sdkFiles{version: v, files: map[string][]byte{}}
	for _, name := range []string{"paylink.js", "paylink.mjs", "return.mjs"} {
		b, err := sdkjs.Files.ReadFile(name)
		if err != nil {
			return sdkFiles{}, fmt.Errorf("sdk: %w", err)
		}
		out.files[name] = b
	}
	return out, nil
}

// serveSDK serves the SDK to any site: as a classic script or an ES module
// (imported cross-origin, hence CORS for everyone: the files are public
// and carry no credentials).
func (s *Server) serveSDK(c *gin.Context) {
	name := c.FullPath()[strings.LastIndexByte(c.FullPath(), '/')+1:]
	cache := "public, max-age=300"
	if v := c.Param("version"); v != "" {
		if v != s.sdk.version {
			s.edge.WriteError(c, edge.ErrRouteNotFound.WithMessage("No such SDK version; this server has "+s.sdk.version+"."))
			return
		}
		cache = "public, max-age=31536000, immutable"
	}
	h := c.Writer.Header()
	h.Set("Cache-Control", cache)
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Paylink-SDK-Version", s.sdk.version)
	c.Data(http.StatusOK, "text/javascript; charset=utf-8", s.sdk.files[name])
}
