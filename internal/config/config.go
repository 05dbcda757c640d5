// Package config reads Paylink's configuration from environment variables
// and validates all of it at start, reporting every problem at once.
package config

import (
	"errors"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ulule/limiter/v3"

	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/returnurl"
	"github.com/paylink/paylink/internal/risk"
	"github.com/paylink/paylink/internal/seal"
)

// Config is everything a paylink process can be told.
type Config struct {
	Addr            string          // PAYLINK_ADDR
	BaseURL         *url.URL        // PAYLINK_BASE_URL
	DatabaseURL     string          // DATABASE_URL
	DBMaxConns      int32           // PAYLINK_DB_MAX_CONNS
	Redis           Redis           // REDIS_URL, PAYLINK_REDIS_SENTINEL_MASTER
	LogLevel        string          // PAYLINK_LOG_LEVEL
	LogFormat       string          // PAYLINK_LOG_FORMAT
	Keyring         *seal.Keyring   // PAYLINK_ENCRYPTION_KEYS
	TrustedProxies  []string        // PAYLINK_TRUSTED_PROXIES
	ShutdownTimeout time.Duration   // PAYLINK_SHUTDOWN_TIMEOUT
	ExportTimeout   time.Duration   // PAYLINK_EXPORT_TIMEOUT
	RequestTimeout  time.Duration   // PAYLINK_REQUEST_TIMEOUT
	RiskScreening   bool            // PAYLINK_RISK_SCREENING
	RiskThresholds  risk.Thresholds // PAYLINK_RISK_THRESHOLDS

	RateAPI          limiter.Rate // PAYLINK_RATE_LIMIT_API
	RatePublic       limiter.Rate // PAYLINK_RATE_LIMIT_PUBLIC
	RateAuthFailures limiter.Rate // PAYLINK_RATE_LIMIT_AUTH_FAILURES

	Currencies money.Set // PAYLINK_CURRENCIES

	IdempotencyRetention time.Duration // PAYLINK_IDEMPOTENCY_RETENTION
	WebhookRetention     time.Duration // PAYLINK_WEBHOOK_RETENTION
	EmailRetention       time.Duration // PAYLINK_EMAIL_RETENTION
	KeyUsageFlush        time.Duration // PAYLINK_KEY_USAGE_FLUSH
	WorkerConcurrency    int           // PAYLINK_WORKER_CONCURRENCY
	WebhookConcurrency   int           // PAYLINK_WEBHOOK_CONCURRENCY

	WebhookAllowPrivate bool               // PAYLINK_WEBHOOK_ALLOW_PRIVATE
	WebhookTimeout      time.Duration      // PAYLINK_WEBHOOK_TIMEOUT
	WebhookRetries      []time.Duration    // PAYLINK_WEBHOOK_RETRY_SCHEDULE
	WebhookDisableAfter time.Duration      // PAYLINK_WEBHOOK_DISABLE_AFTER
	OutboxPoll          time.Duration      // PAYLINK_OUTBOX_POLL
	OutboxSweep         time.Duration      // PAYLINK_OUTBOX_SWEEP
	SMTPHost            string             // PAYLINK_SMTP_HOST
	SMTPPort            int                // PAYLINK_SMTP_PORT
	SMTPTLS             string             // PAYLINK_SMTP_TLS
	SMTPHelo            string             // PAYLINK_SMTP_HELO
	SMTPUsername        string             // PAYLINK_SMTP_USERNAME
	SMTPPassword        string             // PAYLINK_SMTP_PASSWORD
	SMTPFrom            *mail.Address      // PAYLINK_SMTP_FROM
	LinkSigningKeys     []links.SigningKey // PAYLINK_LINK_SIGNING_KEYS, the signing key first
	ReturnSigningKeys   []returnurl.Key    // PAYLINK_RETURN_SIGNING_KEYS, the signing key first
	SimulatorSecret     []byte             // PAYLINK_SIMULATOR_SECRET
	LinkExpiryEvery     time.Duration      // PAYLINK_LINK_EXPIRY_INTERVAL
	DebugAddr           string             // PAYLINK_DEBUG_ADDR
	MetricsAddr         string             // PAYLINK_METRICS_ADDR
	WalletSessionTTL    time.Duration      // PAYLINK_WALLET_SESSION_TTL
	LoginMaxFailures    int                // PAYLINK_LOGIN_MAX_FAILURES
	LoginLockout        time.Duration      // PAYLINK_LOGIN_LOCKOUT
	RateLogin           limiter.Rate       // PAYLINK_RATE_LIMIT_LOGIN
	WebAuthnRPID        string             // PAYLINK_WEBAUTHN_RP_ID
	WebAuthnOrigins     []string           // PAYLINK_WEBAUTHN_ORIGINS
	WebAuthnTimeout     time.Duration      // PAYLINK_WEBAUTHN_TIMEOUT
	PasswordSlots       int                // PAYLINK_PASSWORD_CONCURRENCY (0: auto)
	PasswordWait        time.Duration      // PAYLINK_PASSWORD_WAIT
	ShopperEmailsTo     limiter.Rate       // PAYLINK_SHOPPER_EMAILS_PER_RECIPIENT
	ShopperEmailsFrom   limiter.Rate       // PAYLINK_SHOPPER_EMAILS_PER_MERCHANT
}

// Var documents one environment variable.
type Var struct {
	Name, Default, Help string
}

// Vars lists every variable with its default; `paylink help` prints it and
// the README mirrors it.
func Vars() []Var { return vars[:] }

var vars = [...]Var{
	{"DATABASE_URL", "", "PostgreSQL URL (required; `paylink dev` starts a private server when unset); several hosts, postgres://h1:5432,h2:5432/db?target_session_attrs=read-write, follow a failover to whichever is the primary"},
	{"REDIS_URL", "", "Redis URL (required; `paylink dev` starts a private server when unset); with PAYLINK_REDIS_SENTINEL_MASTER, the Sentinels' addresses, comma-separated: redis://s1:26379,s2:26379,s3:26379/0"},
	{"PAYLINK_REDIS_SENTINEL_MASTER", "", "master name the Sentinels of REDIS_URL watch (their `sentinel monitor` name); set, every Redis client asks them for the master and follows failovers"},
	{"PAYLINK_ADDR", ":8080", "listen address of the HTTP server"},
	{"PAYLINK_BASE_URL", "http://localhost:8080", "public URL of the API, checkout and dashboard, used in payment link URLs and in e-mails' links"},
	{"PAYLINK_DB_MAX_CONNS", "auto", "PostgreSQL pool size per process; auto is 4 per CPU the process may use (8 on 2 cores): more connections than PostgreSQL's cores can serve only add lock and scheduling contention, and requests wait for a connection in the pool instead"},
	{"PAYLINK_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"PAYLINK_LOG_FORMAT", "json", "json or text"},
	{"PAYLINK_ENCRYPTION_KEYS", "", "required: master keys sealing secrets at rest, `version:base64(32 bytes)`, comma-separated, first one current"},
	{"PAYLINK_TRUSTED_PROXIES", "", "comma-separated CIDRs of proxies whose X-Forwarded-For is believed"},
	{"PAYLINK_SHUTDOWN_TIMEOUT", "25s", "how long SIGTERM waits for in-flight requests and tasks"},
	{"PAYLINK_REQUEST_TIMEOUT", "20s", "how long one request (any route but the CSV exports) may take; past it its database work stops, its transaction rolls back and it answers 503 request_timeout, so a statement stuck on a lock cannot hold a connection for ever (shorter than PAYLINK_SHUTDOWN_TIMEOUT, so in-flight requests end before a shutdown cuts them)"},
	{"PAYLINK_EXPORT_TIMEOUT", "30m", "how long one CSV export (GET /v1/reports/payments.csv) may stream, instead of the server's 60s write timeout; it holds one database connection meanwhile"},
	{"PAYLINK_RISK_SCREENING", "true", "screen every checkout payment before it is charged (API.md Part 3); false charges without screening (benchmarks, emergencies): no risk, no rules, no lists"},
	{"PAYLINK_RISK_THRESHOLDS", risk.DefaultThresholdsText, "the risk signals' thresholds and windows, any of: card_testing=failures/cards/window/block, card_velocity=attempts/window, ip_velocity=attempts/window, email_card_velocity=cards/window, amount_anomaly=factor/history/minimum"},
	{"PAYLINK_RATE_LIMIT_API", "100-S", "merchant API limit per API key (`N-S`, `N-M`, `N-H` or `N-D`)"},
	{"PAYLINK_RATE_LIMIT_PUBLIC", "60-M", "sign-up and checkout limit per client IP"},
	{"PAYLINK_RATE_LIMIT_AUTH_FAILURES", "20-M", "failed API-key authentications per client IP; past it the address gets 429 for any key until the window ends"},
	{"PAYLINK_CURRENCIES", money.DefaultAccepted, "ISO 4217 codes the platform accepts"},
	{"PAYLINK_IDEMPOTENCY_RETENTION", "48h", "how long Idempotency-Key results are kept (at least 24h)"},
	{"PAYLINK_WEBHOOK_RETENTION", "720h", "how long finished webhook deliveries and their attempts are kept (at least 24h; events are kept)"},
	{"PAYLINK_EMAIL_RETENTION", "720h", "how long sent e-mails are kept (at least 24h)"},
	{"PAYLINK_KEY_USAGE_FLUSH", "10s", "how often API keys' last_used_at is written"},
	{"PAYLINK_WORKER_CONCURRENCY", "10", "tasks a worker runs at once"},
	{"PAYLINK_WEBHOOK_CONCURRENCY", "100", "first attempts of new webhook deliveries a worker makes at once, straight from the outbox; only retries go through the task queue (0: every attempt does)"},
	{"PAYLINK_WEBHOOK_ALLOW_PRIVATE", "false", "let webhook endpoints use http:// and loopback, private and CGNAT addresses (tests, local development); link-local and metadata addresses stay refused"},
	{"PAYLINK_WEBHOOK_TIMEOUT", "15s", "how long a webhook receiver has to answer 2xx"},
	{"PAYLINK_WEBHOOK_RETRY_SCHEDULE", "5s,5m,30m,2h,5h,10h,10h,14h,14h,14h", "delay before each webhook retry, ±20% jitter (one more attempt than entries; the default spans 69 h 35 min, about three days)"},
	{"PAYLINK_WEBHOOK_DISABLE_AFTER", "72h", "a webhook endpoint failing this long without a success is disabled and its merchant e-mailed"},
	{"PAYLINK_OUTBOX_POLL", "250ms", "how often the worker hands new webhook deliveries and e-mails to Asynq"},
	{"PAYLINK_OUTBOX_SWEEP", "1m", "how often, and after how long overdue, deliveries and e-mails lost from Redis are queued again"},
	{"PAYLINK_SMTP_HOST", "", "mail server for receipts and notifications; unset keeps e-mails queued (`paylink dev`: a local sink writing to .data/mail)"},
	{"PAYLINK_SMTP_PORT", "587", "mail server port: 587 (or 25) for STARTTLS, 465 for implicit TLS"},
	{"PAYLINK_SMTP_TLS", "auto", "`auto` (STARTTLS when the server offers it), `starttls` (required), `implicit` (TLS from the first byte, port 465) or `none` (plain, only to a relay on loopback when a password is set)"},
	{"PAYLINK_SMTP_HELO", "", "the name Paylink gives in EHLO (default: the host of PAYLINK_BASE_URL)"},
	{"PAYLINK_SMTP_USERNAME", "", "mail server user name (PLAIN authentication, over TLS only); unset for none"},
	{"PAYLINK_SMTP_PASSWORD", "", "mail server password; never logged"},
	{"PAYLINK_SMTP_FROM", "Paylink <no-reply@paylink.test>", "sender of every e-mail"},
	{"PAYLINK_WALLET_SESSION_TTL", "12h", "how long a wallet log-in lasts"},
	{"PAYLINK_LOGIN_MAX_FAILURES", "10", "password checks an e-mail address gets per PAYLINK_LOGIN_LOCKOUT (a success starts the count again); the next attempt locks it"},
	{"PAYLINK_LOGIN_LOCKOUT", "15m", "how long a locked e-mail address stays locked, and the window PAYLINK_LOGIN_MAX_FAILURES counts in"},
	{"PAYLINK_RATE_LIMIT_LOGIN", "20-M", "wallet log-in attempts per client IP and e-mail (per IP alone: PAYLINK_RATE_LIMIT_PUBLIC)"},
	{"PAYLINK_WEBAUTHN_RP_ID", "", "passkeys' relying-party id, a domain (default: the host of PAYLINK_BASE_URL)"},
	{"PAYLINK_WEBAUTHN_ORIGINS", "", "comma-separated origins passkey ceremonies may come from (default: the origin of PAYLINK_BASE_URL)"},
	{"PAYLINK_WEBAUTHN_TIMEOUT", "2m", "how long a passkey challenge (registration, log-in, confirmation) stays usable"},
	{"PAYLINK_LINK_SIGNING_KEYS", "", "payment link URL signing keys, `kid:base64(>= 32 bytes)`, comma-separated, the first signs and all verify; unset: derived from PAYLINK_ENCRYPTION_KEYS (kid `e<version>`)"},
	{"PAYLINK_RETURN_SIGNING_KEYS", "", "Ed25519 keys signing the shopper's return to success_url/cancel_url, `kid:base64(32-byte seed)`, comma-separated, the first signs and all are published at /.well-known/paylink-keys.json; unset: derived from PAYLINK_ENCRYPTION_KEYS (kid `e<version>`)"},
	{"PAYLINK_SIMULATOR_SECRET", "", "base64 secret (>= 32 bytes) of the built-in card processor simulator, keying card fingerprints and its references; unset: derived from the current encryption key, so set it before rotating that key"},
	{"PAYLINK_LINK_EXPIRY_INTERVAL", "1m", "how often the worker marks links past expiry expired and settles captures, refunds and abandoned challenges"},
	{"PAYLINK_METRICS_ADDR", "127.0.0.1:9090", "listen address of the Prometheus /metrics of this process (every paylink process has one; the public address answers /metrics with 404); keep it on loopback or a private network (`paylink dev`: a free port when 9090 is taken)"},
	{"PAYLINK_DEBUG_ADDR", "", "listen address of a debug server with Go's /debug/pprof profiles (off when unset; keep it on loopback)"},
	{"PAYLINK_PASSWORD_CONCURRENCY", "auto", "password hashes (sign-up, log-in) a process runs at once; auto is one per CPU the process may use, fewer if a quarter of its memory cannot hold them (each takes about 19 MiB)"},
	{"PAYLINK_SHOPPER_EMAILS_PER_RECIPIENT", "20-D", "receipts and other e-mails to shoppers one address may get from all merchants together (`N-H` or `N-D`); more are held back, not sent"},
	{"PAYLINK_SHOPPER_EMAILS_PER_MERCHANT", "1000-D", "e-mails to shoppers one merchant may cause (`N-H` or `N-D`); more are held back, not sent"},
	{"PAYLINK_PASSWORD_WAIT", "2s", "how long a sign-up or log-in waits for a free hashing slot before answering 503 server_busy with Retry-After"},
}

// Load reads the configuration through getenv. Every invalid or missing
// value is reported in one error, one line each.
func Load(getenv func(string) string) (*Config, error) {
	p := parser{getenv: getenv}
	c := &Config{
		Addr:             p.str("PAYLINK_ADDR"),
		DatabaseURL:      p.databaseURL("DATABASE_URL"),
		Redis:            p.redis(),
		DBMaxConns:       int32(p.poolSize("PAYLINK_DB_MAX_CONNS")),
		LogLevel:         p.oneOf("PAYLINK_LOG_LEVEL", "debug", "info", "warn", "error"),
		LogFormat:        p.oneOf("PAYLINK_LOG_FORMAT", "json", "text"),
		ShutdownTimeout:  p.duration("PAYLINK_SHUTDOWN_TIMEOUT", time.Second),
		RateAPI:          p.rate("PAYLINK_RATE_LIMIT_API"),
		RatePublic:       p.rate("PAYLINK_RATE_LIMIT_PUBLIC"),
		RateAuthFailures: p.rate("PAYLINK_RATE_LIMIT_AUTH_FAILURES"),
		ExportTimeout:    p.duration("PAYLINK_EXPORT_TIMEOUT", time.Second),
		RequestTimeout:   p.duration("PAYLINK_REQUEST_TIMEOUT", time.Second),

		IdempotencyRetention: p.duration("PAYLINK_IDEMPOTENCY_RETENTION", 24*time.Hour),
		WebhookRetention:     p.duration("PAYLINK_WEBHOOK_RETENTION", 24*time.Hour),
		EmailRetention:       p.duration("PAYLINK_EMAIL_RETENTION", 24*time.Hour),
		KeyUsageFlush:        p.duration("PAYLINK_KEY_USAGE_FLUSH", 100*time.Millisecond),
		WorkerConcurrency:    p.intRange("PAYLINK_WORKER_CONCURRENCY", 1, 1000),
		WebhookConcurrency:   p.intRange("PAYLINK_WEBHOOK_CONCURRENCY", 0, 10000),

		WebhookAllowPrivate: p.boolean("PAYLINK_WEBHOOK_ALLOW_PRIVATE"),
		WebhookTimeout:      p.duration("PAYLINK_WEBHOOK_TIMEOUT", time.Millisecond),
		WebhookRetries:      p.schedule("PAYLINK_WEBHOOK_RETRY_SCHEDULE"),
		WebhookDisableAfter: p.duration("PAYLINK_WEBHOOK_DISABLE_AFTER", time.Millisecond),
		OutboxPoll:          p.duration("PAYLINK_OUTBOX_POLL", time.Millisecond),
		OutboxSweep:         p.duration("PAYLINK_OUTBOX_SWEEP", time.Second),
		SMTPHost:            strings.TrimSpace(p.getenv("PAYLINK_SMTP_HOST")),
		SMTPPort:            p.intRange("PAYLINK_SMTP_PORT", 1, 65535),
		SMTPUsername:        p.getenv("PAYLINK_SMTP_USERNAME"),
		SMTPPassword:        p.getenv("PAYLINK_SMTP_PASSWORD"),
		SMTPFrom:            p.address("PAYLINK_SMTP_FROM"),
	}
	c.BaseURL = p.baseURL("PAYLINK_BASE_URL")
	c.SMTPTLS, c.SMTPHelo = p.smtpSecurity(c)
	c.WalletSessionTTL = p.duration("PAYLINK_WALLET_SESSION_TTL", time.Minute)
	c.LoginMaxFailures = p.intRange("PAYLINK_LOGIN_MAX_FAILURES", 1, 1000)
	c.LoginLockout = p.duration("PAYLINK_LOGIN_LOCKOUT", time.Second)
	c.RateLogin = p.rate("PAYLINK_RATE_LIMIT_LOGIN")
	c.WebAuthnTimeout = p.duration("PAYLINK_WEBAUTHN_TIMEOUT", 10*time.Second)
	c.WebAuthnRPID, c.WebAuthnOrigins = p.webAuthn(c.BaseURL)
	if s := p.required("PAYLINK_ENCRYPTION_KEYS"); s != "" {
		k, err := seal.Parse(s)
		if err != nil {
			p.fail("PAYLINK_ENCRYPTION_KEYS", err.Error())
		}
		c.Keyring = k
	}
	c.TrustedProxies = p.cidrs("PAYLINK_TRUSTED_PROXIES")
	c.LinkExpiryEvery = p.duration("PAYLINK_LINK_EXPIRY_INTERVAL", time.Second)
	c.DebugAddr = p.str("PAYLINK_DEBUG_ADDR")
	c.MetricsAddr = p.str("PAYLINK_METRICS_ADDR")
	if !strings.EqualFold(p.str("PAYLINK_PASSWORD_CONCURRENCY"), "auto") {
		c.PasswordSlots = p.intRange("PAYLINK_PASSWORD_CONCURRENCY", 1, 1000)
	}
	c.PasswordWait = p.duration("PAYLINK_PASSWORD_WAIT", 0)
	c.RiskScreening = p.boolean("PAYLINK_RISK_SCREENING")
	if th, err := risk.ParseThresholds(p.str("PAYLINK_RISK_THRESHOLDS")); err != nil {
		p.fail("PAYLINK_RISK_THRESHOLDS", err.Error())
	} else {
		c.RiskThresholds = th
	}
	c.ShopperEmailsTo = p.rate("PAYLINK_SHOPPER_EMAILS_PER_RECIPIENT")
	c.ShopperEmailsFrom = p.rate("PAYLINK_SHOPPER_EMAILS_PER_MERCHANT")
	if c.Keyring != nil {
		c.LinkSigningKeys = p.signingKeys("PAYLINK_LINK_SIGNING_KEYS", c.Keyring)
		c.ReturnSigningKeys = p.returnKeys("PAYLINK_RETURN_SIGNING_KEYS", c.Keyring)
		c.SimulatorSecret = p.secret("PAYLINK_SIMULATOR_SECRET", c.Keyring)
	}
	if set, err := money.ParseSet(p.str("PAYLINK_CURRENCIES")); err != nil {
		p.fail("PAYLINK_CURRENCIES", err.Error())
	} else {
		c.Currencies = set
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return c, nil
}

// otherVars are the PAYLINK_ variables read outside Load (paylink dev's)
// and the prefixes of the tests' and benchmarks' own.
var otherVars = []string{"PAYLINK_DEV_DIR", "PAYLINK_EXAMPLE_ADDR", "PAYLINK_TEST_*", "PAYLINK_SCALE_*", "PAYLINK_BENCH_*"}

// Unknown returns the names in environ (NAME=value entries) that start
// with PAYLINK_ but that Paylink does not read, such as a misspelt
// variable, which would otherwise be ignored without a word.
func Unknown(environ []string) []string {
	var out []string
	for _, kv := range environ {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "PAYLINK_") && !known(name) {
			out = append(out, name)
		}
	}
	return out
}

// known reports whether Paylink reads variable name: one of vars, or of
// otherVars (a trailing * matching any suffix).
func known(name string) bool {
	return slices.ContainsFunc(vars[:], func(v Var) bool { return v.Name == name }) ||
		slices.ContainsFunc(otherVars, func(o string) bool {
			prefix, wild := strings.CutSuffix(o, "*")
			return name == o || wild && strings.HasPrefix(name, prefix)
		})
}
