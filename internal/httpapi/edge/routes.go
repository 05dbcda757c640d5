package edge

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/paylink/paylink/internal/idempotency"
)

// Route is one endpoint, declared once next to its path: who may call it,
// what it needs, and what answers it. Mount registers it; package apidoc
// documents it from the same fields.
type Route struct {
	Method, Path string // Gin syntax: /v1/payment_links/:id
	// Auth is who may call the route: Public, or an audience's Auth (API
	// key, wallet session, …), checked before anything else but SameOrigin.
	Auth Auth
	// Scope is the API-key scope the route needs (API.md, "API keys:
	// names, scopes, roll"), checked after Auth; "" for none.
	Scope string
	// Limit is the rate limit that counts the route's requests.
	Limit Limit
	// Idempotent routes take an Idempotency-Key and store their answer
	// with Mutate; only they may call it.
	Idempotent bool
	// SameOrigin routes refuse, before authentication, a request that is
	// not JSON or comes from another site (cookie-authenticated APIs).
	SameOrigin bool
	// Streams routes (CSV exports) bound their own time instead of the
	// edge's RequestTimeout.
	Streams bool
	// Doc names the route's OpenAPI operation (its operationId) among the
	// audience's OpenAPI parts.
	Doc string
	// Handle answers the route; an error it returns is rendered as
	// API.md's error body. Pages and files use Page instead.
	Handle func(*gin.Context) error
	// Page answers the route entirely by itself (HTML pages, files).
	Page gin.HandlerFunc
	// Envelope, when set, renders the route's errors in another shape
	// than API.md's error body (the seed-compatible wallet routes): it
	// gets the status and the body WriteError would have answered.
	Envelope func(status int, body ErrorBody) any
}

// Limit names which rate limit (configuration, Redis counters shared by
// every replica) counts a route's requests.
type Limit int

// Rate-limit classes.
const (
	// Unlimited routes are not counted.
	Unlimited Limit = iota
	// PerCaller counts per authenticated caller (Caller.RateKey) at the
	// API rate: per API key, per wallet user.
	PerCaller
	// PerIPSignUp counts sign-ups (and password-less log-in ceremonies)
	// per client IP at the public rate.
	PerIPSignUp
	// PerIPCheckout counts the hosted checkout's requests per client IP at
	// the public rate.
	PerIPCheckout
	// PerLogIn routes count log-in attempts per client IP and e-mail; the
	// handler does it with LimitLogIn once it has read the e-mail.
	PerLogIn
)

// Auth is a way a route's caller is authenticated. Check answers the
// caller or an error (401, usually); it may keep what it found in the
// Gin context for the handlers. The zero Auth is Public.
type Auth struct {
	// Name says what the caller shows, for people: "API key".
	Name string
	// Scheme is the OpenAPI security scheme it is documented as.
	Scheme string
	Check  func(*gin.Context) (Caller, error)
}

// Public is the Auth of routes anyone may call.
var Public = Auth{Name: "none"}

// Caller is who an authenticated request acts for.
type Caller struct {
	// RateKey is what the PerCaller limit counts: "key:<id>", "user:<id>".
	RateKey string
	// Scopes are the API-key scopes the caller holds; nil is full access.
	Scopes []string
	// Merchant is the merchant the request acts for, for the access log;
	// "" for a wallet user.
	Merchant string
}

const (
	callerKey = "paylink.caller"
	routeKey  = "paylink.route"
)

// CallerOf returns the caller the route's Auth found (the zero Caller on
// a public route).
func CallerOf(c *gin.Context) Caller {
	v, _ := c.Get(callerKey)
	caller, _ := v.(Caller)
	return caller
}

// routeOf returns the declaration of the route c is answering.
func routeOf(c *gin.Context) *Route {
	v, _ := c.Get(routeKey)
	r, _ := v.(*Route)
	return r
}

// Mount registers routes on the engine, each with the middleware its
// declaration asks for, in this order: SameOrigin, Auth and Scope, the
// rate limit, the Idempotency-Key's form, then the handler. It fails on a
// route without a handler or documentation, or with a scope but no
// authentication.
func (e *Edge) Mount(routes ...Route) error {
	for i := range routes {
		r := &routes[i]
		switch {
		case (r.Handle == nil) == (r.Page == nil):
			return fmt.Errorf("route %s %s: give exactly one of Handle and Page", r.Method, r.Path)
		case r.Doc == "":
			return fmt.Errorf("route %s %s: no OpenAPI operation (Doc)", r.Method, r.Path)
		case r.Scope != "" && r.Auth.Check == nil:
			return fmt.Errorf("route %s %s: a scope needs an authenticated caller", r.Method, r.Path)
		}
		if r.Envelope != nil {
			e.envelopes[r.Path] = r.Envelope
		}
		chain := []gin.HandlerFunc{func(c *gin.Context) { c.Set(routeKey, r) }}
		if e.timeout > 0 && !r.Streams {
			chain = append(chain, e.deadline)
		}
		if r.SameOrigin {
			chain = append(chain, e.sameOriginFirst)
		}
		if r.Auth.Check != nil {
			chain = append(chain, e.authenticate(r))
		}
		switch r.Limit {
		case Unlimited, PerLogIn:
		case PerCaller:
			chain = append(chain, e.rateLimit(e.limits[PerCaller], func(c *gin.Context) string { return CallerOf(c).RateKey }))
		default:
			chain = append(chain, e.rateLimit(e.limits[r.Limit], byClientIP))
		}
		if r.Scope != "" { // after the limit, so a 403 counts and carries X-RateLimit-*
			chain = append(chain, e.checkScope(r))
		}
		if r.Idempotent {
			chain = append(chain, e.checkIdempotencyKey)
		}
		if r.Handle != nil {
			chain = append(chain, e.h(r.Handle))
		} else {
			chain = append(chain, r.Page)
		}
		e.engine.Handle(r.Method, r.Path, chain...)
	}
	return nil
}

// Streaming returns r declared Streams.
func Streaming(r Route) Route {
	r.Streams = true
	return r
}

// deadline gives the request's context the edge's RequestTimeout while
// the rest of the chain runs; the access log after it sees the request
// as it came.
func (e *Edge) deadline(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), e.timeout)
	defer cancel()
	r := c.Request
	c.Request = r.WithContext(ctx)
	c.Next()
	c.Request = r
}

// authenticate runs r's Auth.
func (e *Edge) authenticate(r *Route) gin.HandlerFunc {
	return func(c *gin.Context) {
		caller, err := r.Auth.Check(c)
		if err != nil {
			e.WriteError(c, err)
			return
		}
		c.Set(callerKey, caller)
		c.Next()
	}
}

// checkScope answers 403 insufficient_scope unless the authenticated
// caller holds r's scope.
func (e *Edge) checkScope(r *Route) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !CallerOf(c).Allows(r.Scope) {
			e.WriteError(c, errInsufficientScope.WithMessage("This API key lacks the scope "+r.Scope+" this route needs."))
			return
		}
		c.Next()
	}
}

// checkIdempotencyKey refuses, before the handler, an Idempotency-Key
// header sent empty, twice or malformed (idempotency.HeaderKey).
func (e *Edge) checkIdempotencyKey(c *gin.Context) {
	if _, err := idempotency.HeaderKey(c.Request.Header.Values("Idempotency-Key")); err != nil {
		e.WriteError(c, err)
		return
	}
	c.Next()
}

// Allows says whether the caller holds scope: a caller with no scopes
// listed has full access, and a :write scope implies its :read.
func (c Caller) Allows(scope string) bool {
	if c.Scopes == nil {
		return true
	}
	for _, s := range c.Scopes {
		if s == scope || (strings.HasSuffix(s, ":write") && strings.TrimSuffix(s, ":write")+":read" == scope) {
			return true
		}
	}
	return false
}

// sameOriginFirst is SameOrigin as middleware, for routes that declare it.
func (e *Edge) sameOriginFirst(c *gin.Context) {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if err := e.SameOrigin(c); err != nil {
			e.WriteError(c, err)
			return
		}
	}
	c.Next()
}

// Routes returns "METHOD /path/{param}" for every route mounted.
func (e *Edge) Routes() []string {
	var out []string
	for _, r := range e.engine.Routes() {
		out = append(out, r.Method+" "+OpenAPIPath(r.Path))
	}
	return out
}

// OpenAPIPath turns Gin's /a/:id/*rest into OpenAPI's /a/{id}/{rest}.
func OpenAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if strings.HasPrefix(part, ":") || strings.HasPrefix(part, "*") {
			parts[i] = "{" + part[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}
