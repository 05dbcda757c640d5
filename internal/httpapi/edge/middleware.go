package edge

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/paylink/paylink/internal/id"
)

const requestIDKey = "paylink.request_id"

// RequestID returns the id given to this request by withRequestID.
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// withRequestID gives every request a fresh id, answered in X-Request-Id
// and repeated in error bodies and log lines. A client-sent id is not
// reused: it could collide or carry log injection.
func withRequestID(c *gin.Context) {
	rid := id.New("req")
	c.Set(requestIDKey, rid)
	c.Header("X-Request-Id", rid)
	c.Next()
}

// strictTransportSecurity tells browsers to reach this host over https
// only, for a year, on every answer of a server whose base URL is https
// (HSTS); a plain-http server must not, or a development host would be
// pinned to https.
func strictTransportSecurity(c *gin.Context) {
	c.Header("Strict-Transport-Security", "max-age=31536000")
	c.Next()
}

// recoverPanics turns a panic into a 500 api_error that leaks nothing; the
// stack goes to the log only.
func (e *Edge) recoverPanics(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			e.log.ErrorContext(c.Request.Context(), "panic", "request_id", RequestID(c),
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !c.Writer.Written() {
				status, body := e.ErrorResponse(c, errInternal)
				c.Abort()
				c.PureJSON(status, body)
			} else {
				c.Abort()
			}
		}
	}()
	c.Next()
}

// limitBody caps request bodies at 64 KiB; a declared larger body is
// refused before it is read.
func (e *Edge) limitBody(c *gin.Context) {
	if c.Request.ContentLength > maxBody {
		e.WriteError(c, errBodyTooLarge)
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBody)
	c.Next()
}

// metrics counts requests and observes their latency by route template
// (never the raw path, which would make a series per id) and status.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "paylink_http_requests_total",
			Help: "HTTP requests answered, by method, route template and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "paylink_http_request_duration_seconds",
			Help:    "HTTP request latency, by method, route template and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// observe records metrics and one access-log line per request. The log has
// the path but never the query string or body, which may carry signatures
// or card data.
func (e *Edge) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	elapsed := time.Since(start)
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := strconv.Itoa(c.Writer.Status())
	e.metrics.requests.WithLabelValues(c.Request.Method, route, status).Inc()
	e.metrics.latency.WithLabelValues(c.Request.Method, route, status).Observe(elapsed.Seconds())
	level := slog.LevelInfo
	if c.Writer.Status() >= 500 {
		level = slog.LevelWarn
	}
	e.log.LogAttrs(c.Request.Context(), level, "request",
		slog.String("request_id", RequestID(c)),
		slog.String("method", c.Request.Method),
		slog.String("path", c.Request.URL.Path),
		slog.String("route", route),
		slog.Int("status", c.Writer.Status()),
		slog.Duration("duration", elapsed),
		slog.String("client_ip", c.ClientIP()),
		slog.String("merchant", CallerOf(c).Merchant),
	)
}
