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
// cannot reach them.
func (s *opsServer) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := gin.H{"postgres": "ok", "redis": "ok"}
	status := http.StatusOK
	if err := s.db.Pool.Ping(ctx); err != nil {
		checks["postgres"], status = "unreachable", http.StatusServiceUnavailable
	}
	if err := s.redis.Ping(ctx).Err(); err != nil {
		checks["redis"], status = "unreachable", http.StatusServiceUnavailable
	}
	overall := "ok"
	if status != http.StatusOK {
		overall = "unavailable"
	}
	c.PureJSON(status, gin.H{"status": overall, "checks": checks})
}

func (s *opsServer) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json; charset=utf-8", s.openAPIDoc)
}
