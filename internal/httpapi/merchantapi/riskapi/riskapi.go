// Package riskapi is the merchant API's risk section (API.md Part 3):
// rules with backtests, allow and block lists, insights and reviews,
// behind the merchant API's keys, scopes and limits. It acts through
// packages risk and riskstats, as the dashboard's Risk section does.
package riskapi

import (
	"embed"
	"io/fs"
	"time"

	"github.com/paylink/paylink/internal/httpapi/edge"
	"github.com/paylink/paylink/internal/httpapi/merchantapi"
	"github.com/paylink/paylink/internal/postgres"
)

// Deps is what the risk section needs: the merchant API it belongs to
// (its keys and route declarations) and the database.
type Deps struct {
	API  *merchantapi.Server
	Edge *edge.Edge
	DB   *postgres.DB
	Now  func() time.Time
}

// Server answers the risk section's routes.
type Server struct {
	api  *merchantapi.Server
	edge *edge.Edge
	db   *postgres.DB
	now  func() time.Time
}

// New returns the risk section of api.
func New(d Deps) *Server {
	s := &Server{api: d.API, edge: d.Edge, db: d.DB, now: d.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

//go:embed openapi/*.json
var openAPIFiles embed.FS

// OpenAPI is the risk section's part of the OpenAPI document (see
// apidoc.Build).
func OpenAPI() fs.FS { return openAPIFiles }
