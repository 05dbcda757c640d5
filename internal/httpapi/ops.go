package httpapi

import (
	"context"
	"embed"
	"io/fs"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/postgres"
)

// opsServer answers the operational routes: health, readiness,
// the API's own description, and the pages' static files.
type opsServer struct {
	edge  *edge.Edge
	db    *postgres.DB
	redis *redis.Client
	// openAPIDoc is the OpenAPI document served at /v1/openapi.json,
	// built from every route's declaration once they are all known.
	openAPIDoc []byte
}

// routes are the operational routes. Metrics are not among them: each
// process serves them on its own metrics address.
func (s *opsServer) routes() []edge.Route {
	return []edge.Route{
		{Method: "GET", Path: "/healthz", Doc: "healthz", Page: s.healthz},
		{Method: "GET", Path: "/readyz", Doc: "readyz", Page: s.readyz},
		{Method: "GET", Path: "/v1/openapi.json", Doc: "getOpenAPIDocument", Page: s.openAPI},
		// The pages' stylesheets and scripts, whichever audience brought them.
		{Method: "GET", Path: "/assets/*file", Doc: "getAsset", Page: s.edge.ServeAsset},
	}
}

// opsParts are the OpenAPI operations of the operational routes.
//
//go:embed openapi/*.json
var opsParts embed.FS

// opsOpenAPI is the OpenAPI part of the operational routes.
func opsOpenAPI() fs.FS { return opsParts }

func (s *opsServer) healthz(c *gin.Context) {
	c.PureJSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz answers 200 only when PostgreSQL and Redis both answer within two
// seconds, so a load balancer stops sending traffic to a replica that
// cannot reach them. Each check says what it found: "ok", "unreachable"
// (refused, or no primary among DATABASE_URL's hosts during a failover)
// or "timeout"; both run at once, so the answer takes two seconds at most.
func (s *opsServer) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	var pg, rd string
	done := make(chan struct{})
	go func() {
		defer close(done)
		pg = checkState(ctx, s.db.Pool.Ping(ctx))
	}()
	rd = checkState(ctx, s.redis.Ping(ctx).Err())
	<-done
	status, overall := http.StatusOK, "ok"
	if pg != "ok" || rd != "ok" {
		status, overall = http.StatusServiceUnavailable, "unavailable"
		c.Header("Retry-After", edge.RetryAfterUnavailable)
	}
	c.PureJSON(status, gin.H{"status": overall, "checks": gin.H{"postgres": pg, "redis": rd}})
}

// checkState names the outcome of a readiness check.
func checkState(ctx context.Context, err error) string {
	switch {
	case err == nil:
		return "ok"
	case ctx.Err() != nil:
		return "timeout"
	default:
		return "unreachable"
	}
}

func (s *opsServer) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json; charset=utf-8", s.openAPIDoc)
}
