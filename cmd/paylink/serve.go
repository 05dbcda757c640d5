package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/config"
	"github.com/paylink/paylink/internal/eventmail"
	"github.com/paylink/paylink/internal/forms"
	"github.com/paylink/paylink/internal/httpapi"
	"github.com/paylink/paylink/internal/idempotency"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/merchantauth"
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/password"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/returnurl"
	"github.com/paylink/paylink/internal/risk"
	"github.com/paylink/paylink/internal/wallet"
	"github.com/paylink/paylink/internal/walletrisk"
	"github.com/paylink/paylink/internal/webhook"
	"github.com/paylink/paylink/internal/webhook/delivery"
	"github.com/paylink/paylink/internal/worker"
)

// app holds the connections and services a process shares between its
// API server and its worker.
type app struct {
	cfg       *config.Config
	log       *slog.Logger
	db        *postgres.DB
	redis     *redis.Client
	registry  *prometheus.Registry
	usage     *merchant.Usage
	merchants *merchant.Service
	idem      *idempotency.Store
	webhooks  *webhook.Service
	mail      *notify.Sender
	wallet    *wallet.Service
	passkeys  *passkey.Service
	processor processor.Processor
	links     *links.Service
	checkout  *checkout.Service
	forms     *forms.Service
	passwords *password.Hasher
	// deliveries makes the webhook deliveries; eventMail derives e-mails
	// from events.
	deliveries *delivery.Service
	eventMail  *eventmail.Service
	// merchantLogins are the dashboard's log-ins and sessions.
	merchantLogins *merchantauth.Service
	// metricsFallback lets a taken PAYLINK_METRICS_ADDR fall back to a
	// free port (paylink dev); metricsAddr is where metrics are served.
	metricsFallback bool
	metricsAddr     string
	returns         *returnurl.Signer
	// walletRisk screens wallet top-ups and withdrawals (nil when
	// PAYLINK_RISK_SCREENING is false).
	walletRisk *walletrisk.Screener
	// counters hold the failed attempts not yet written to Redis; close
	// writes them.
	counters []interface{ Flush() }
}

// openApp reads the configuration and connects to PostgreSQL and Redis.
func openApp(ctx context.Context, getenv func(string) string, logOut io.Writer) (*app, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, err
	}
	log := newLogger(cfg, logOut)
	redis.SetLogger(redisLog{log})
	for _, name := range config.Unknown(os.Environ()) {
		log.Warn("unknown configuration variable, ignored (see paylink help)", "name", name)
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	rdb := cfg.Redis.NewClient()
	rdb.AddHook(newRedisRoundTrips(reg))
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		db.Close()
		rdb.Close()
		return nil, fmt.Errorf("connect to redis: %w", err)
	}
	usage := merchant.NewUsage()
	merchants := merchant.NewService(cfg.Keyring, usage, time.Now).WithCurrencies(cfg.Currencies)
	passkeys, err := passkey.New(passkey.Config{RPID: cfg.WebAuthnRPID, RPName: "Paylink", Origins: cfg.WebAuthnOrigins,
		Timeout: cfg.WebAuthnTimeout}, time.Now)
	if err != nil {
		db.Close()
		rdb.Close()
		return nil, err
	}
	signer, err := links.NewSigner(cfg.LinkSigningKeys)
	if err != nil {
		db.Close()
		rdb.Close()
		return nil, err
	}
	returns, err := returnurl.NewSigner(cfg.ReturnSigningKeys, time.Now)
	if err != nil {
		db.Close()
		rdb.Close()
		return nil, err
	}
	shopperEmails := notify.ShopperLimits{
		PerRecipient: notify.Limit{N: int(cfg.ShopperEmailsTo.Limit), Per: cfg.ShopperEmailsTo.Period},
		PerMerchant:  notify.Limit{N: int(cfg.ShopperEmailsFrom.Limit), Per: cfg.ShopperEmailsFrom.Period},
	}
	linkSvc := links.NewService(signer, cfg.BaseURL, time.Now).WithShopperLimits(shopperEmails)
	riskCounters := risk.NewCounters(rdb, "", cfg.RiskThresholds, log)
	walletCounters := walletrisk.NewCounters(rdb, "", cfg.RiskThresholds, log)
	sim := processor.NewSimulator(cfg.SimulatorSecret, processor.NewRedisKeys(rdb), time.Now)
	passwords := password.NewHasher(password.Config{Slots: cfg.PasswordSlots, Wait: cfg.PasswordWait})
	webhooks := webhook.NewService(db, webhook.Config{
		Keyring: cfg.Keyring, Now: time.Now, Timeout: cfg.WebhookTimeout,
		Guard: &webhook.Guard{AllowPrivate: cfg.WebhookAllowPrivate, Resolver: net.DefaultResolver},
	})
	return &app{
		cfg: cfg, log: log, db: db, redis: rdb, registry: reg, usage: usage,
		merchants: merchants,
		idem:      idempotency.NewStore(cfg.Keyring),
		webhooks:  webhooks,
		deliveries: delivery.NewService(db, delivery.Config{Webhooks: webhooks, Merchants: merchants, Now: time.Now,
			Schedule: cfg.WebhookRetries, DisableAfter: cfg.WebhookDisableAfter}),
		eventMail: eventmail.NewService(db, eventmail.Config{Merchants: merchants, Now: time.Now,
			ShopperEmails: shopperEmails, RetryURL: linkSvc.PayableURL, Describe: linkSvc.Description, ReceiptURL: linkSvc.ReceiptURL,
			BaseURL: cfg.BaseURL}),
		mail: notify.NewSender(db, notify.SMTP{
			Host: cfg.SMTPHost, Port: cfg.SMTPPort, TLS: cfg.SMTPTLS, Helo: cfg.SMTPHelo,
			Username: cfg.SMTPUsername, Password: cfg.SMTPPassword,
			From: cfg.SMTPFrom, Timeout: time.Minute,
		}, time.Now).WithKeys(cfg.Keyring),
		links: linkSvc,
		wallet: wallet.NewService(db, rdb, cfg.Keyring, wallet.Config{SessionTTL: cfg.WalletSessionTTL,
			MaxFailures: cfg.LoginMaxFailures, Lockout: cfg.LoginLockout, Passwords: passwords}, time.Now),
		passkeys:  passkeys,
		processor: sim,
		checkout:  newCheckout(cfg, db, riskCounters, log, sim, linkSvc),
		forms:     forms.NewService(cfg.BaseURL, time.Now),
		passwords: passwords,
		merchantLogins: merchantauth.New(db, merchantauth.Config{MaxFailures: cfg.LoginMaxFailures,
			Lockout: cfg.LoginLockout, Passwords: passwords, Keys: cfg.Keyring}, time.Now),
		returns:    returns,
		walletRisk: newWalletRisk(cfg, db, walletCounters, log, sim),
		counters:   []interface{ Flush() }{riskCounters, walletCounters},
	}, nil
}

// newCheckout is the checkout service, screening payments unless
// PAYLINK_RISK_SCREENING is false.
func newCheckout(cfg *config.Config, db *postgres.DB, counters *risk.Counters, log *slog.Logger, sim *processor.Simulator, linkSvc *links.Service) *checkout.Service {
	svc := checkout.NewService(sim, linkSvc, time.Now)
	if !cfg.RiskScreening {
		return svc
	}
	return svc.WithRisk(risk.NewEngine(db, counters, cfg.RiskThresholds, log, time.Now), sim.Fingerprint)
}

// newWalletRisk is the wallet's screening with the checkout's thresholds,
// nil when PAYLINK_RISK_SCREENING is false.
func newWalletRisk(cfg *config.Config, db *postgres.DB, counters *walletrisk.Counters, log *slog.Logger, sim *processor.Simulator) *walletrisk.Screener {
	if !cfg.RiskScreening {
		return nil
	}
	return walletrisk.New(db, counters, cfg.RiskThresholds, sim.Fingerprint, log, time.Now)
}

func (a *app) close() {
	for _, c := range a.counters {
		c.Flush()
	}
	a.redis.Close()
	a.db.Close()
}

func newLogger(cfg *config.Config, out io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(out, opts))
	}
	return slog.New(slog.NewJSONHandler(out, opts))
}

// serve runs the API server, the worker, or both until ctx ends, then
// shuts them down gracefully: the listener closes, in-flight requests and
// tasks get up to PAYLINK_SHUTDOWN_TIMEOUT to finish, and only then are
// the database and Redis connections closed.
func serve(ctx context.Context, getenv func(string) string, logOut io.Writer, api, work bool) error {
	a, err := openApp(ctx, getenv, logOut)
	if err != nil {
		return err
	}
	defer a.close()
	return a.serve(ctx, api, work, nil)
}

// serve is serve's body once the app is open; ready, when non-nil, is
// called with the API's listen address once it accepts connections.
func (a *app) serve(ctx context.Context, api, work bool, ready func(addr string)) error {
	var (
		wg   sync.WaitGroup
		errs = make(chan error, 3)
	)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	closeMetrics, err := a.registerQueueMetrics()
	if err != nil {
		return err
	}
	defer closeMetrics()
	if err := a.serveMetrics(runCtx, &wg); err != nil {
		return err
	}
	if api {
		srv, err := httpapi.New(httpapi.Deps{
			Log: a.log, DB: a.db, Redis: a.redis, Merchants: a.merchants, Idempotency: a.idem,
			Registry: a.registry, BaseURL: a.cfg.BaseURL, TrustedProxies: a.cfg.TrustedProxies,
			Limits: httpapi.Limits{API: a.cfg.RateAPI, Public: a.cfg.RatePublic, Login: a.cfg.RateLogin,
				AuthFailures: a.cfg.RateAuthFailures},
			Now: time.Now, Webhooks: a.webhooks,
			Links: a.links, Checkout: a.checkout, Currencies: a.cfg.Currencies,
			Wallet: a.wallet, Passkeys: a.passkeys, Processor: a.processor, WalletRisk: a.walletRisk,
			Forms: a.forms, Passwords: a.passwords, ExportTimeout: a.cfg.ExportTimeout,
			RequestTimeout: a.cfg.RequestTimeout, Returns: a.returns,
			MerchantLogins: a.merchantLogins, Keys: a.cfg.Keyring,
		})
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", a.cfg.Addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", a.cfg.Addr, err)
		}
		hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
			ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
		a.log.Info("api listening", "addr", ln.Addr().String())
		if ready != nil {
			ready(ln.Addr().String())
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("http server: %w", err)
				cancel()
			}
		}()
		go func() {
			defer wg.Done()
			<-runCtx.Done()
			sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
			defer scancel()
			if err := hs.Shutdown(sctx); err != nil {
				errs <- fmt.Errorf("http shutdown: %w", err)
			}
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.usage.Run(runCtx, a.db.Pool, a.cfg.KeyUsageFlush, func(err error) { a.log.Warn("api key usage", "err", err) })
		}()
	}
	if a.cfg.DebugAddr != "" {
		if err := a.serveDebug(runCtx, &wg); err != nil {
			return err
		}
	}
	if work {
		w, err := worker.New(worker.Deps{
			Log: a.log, DB: a.db, Redis: a.cfg.Redis.Asynq(), Concurrency: a.cfg.WorkerConcurrency,
			ShutdownTimeout: a.cfg.ShutdownTimeout, IdempotencyRetention: a.cfg.IdempotencyRetention, Idempotency: a.idem,
			Now:              time.Now,
			WebhookRetention: a.cfg.WebhookRetention, EmailRetention: a.cfg.EmailRetention,
			Deliveries: a.deliveries, EventMail: a.eventMail, Mail: a.mail, WebhookTimeout: a.cfg.WebhookTimeout, MailTimeout: time.Minute,
			WebhookConcurrency: a.cfg.WebhookConcurrency,
			OutboxPoll:         a.cfg.OutboxPoll, OutboxSweep: a.cfg.OutboxSweep,
			Wallet: a.wallet, Processor: a.processor,
			Links: a.links, Checkout: a.checkout, CheckoutEvery: a.cfg.LinkExpiryEvery,
		})
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Run(runCtx); err != nil {
				errs <- err
				cancel()
			}
		}()
		a.log.Info("worker started", "concurrency", a.cfg.WorkerConcurrency)
	}
	<-runCtx.Done()
	a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout.String())
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	a.log.Info("stopped")
	return errors.Join(all...)
}

// registerQueueMetrics adds Asynq's queue sizes, latencies and counts to
// the registry the metrics address serves, read from Redis at each scrape. The
// returned function closes the Redis connection once serving is over.
func (a *app) registerQueueMetrics() (func(), error) {
	inspector := asynq.NewInspector(a.cfg.Redis.Asynq())
	if err := a.registry.Register(asynqmetrics.NewQueueMetricsCollector(inspector)); err != nil {
		inspector.Close()
		return nil, fmt.Errorf("register queue metrics: %w", err)
	}
	return func() { inspector.Close() }, nil
}

// serveMetrics serves the registry's Prometheus metrics (requests, Go and
// process, Asynq's queues) on PAYLINK_METRICS_ADDR until ctx ends; the
// public address has no /metrics. With metricsFallback (paylink dev,
// address not chosen) a taken address falls back to a free port.
func (a *app) serveMetrics(ctx context.Context, wg *sync.WaitGroup) error {
	ln, err := net.Listen("tcp", a.cfg.MetricsAddr)
	if err != nil && a.metricsFallback {
		host, _, _ := net.SplitHostPort(a.cfg.MetricsAddr)
		a.log.Warn("metrics address taken; using a free port", "addr", a.cfg.MetricsAddr, "err", err)
		ln, err = net.Listen("tcp", net.JoinHostPort(host, "0"))
	}
	if err != nil {
		return fmt.Errorf("listen on %s (PAYLINK_METRICS_ADDR): %w", a.cfg.MetricsAddr, err)
	}
	a.metricsAddr = ln.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{Registry: a.registry}))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	a.log.Info("metrics listening", "addr", a.metricsAddr)
	wg.Add(1)
	go func() {
		defer wg.Done()
		go func() {
			<-ctx.Done()
			hs.Close()
		}()
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Warn("metrics server", "err", err)
		}
	}()
	return nil
}

// serveDebug serves Go's profiles on PAYLINK_DEBUG_ADDR until ctx ends,
// for measuring (make bench) and diagnosing a live process.
func (a *app) serveDebug(ctx context.Context, wg *sync.WaitGroup) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", a.cfg.DebugAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.DebugAddr, err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	a.log.Info("debug server listening", "addr", ln.Addr().String())
	wg.Add(1)
	go func() {
		defer wg.Done()
		go func() {
			<-ctx.Done()
			hs.Close()
		}()
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Warn("debug server", "err", err)
		}
	}()
	return nil
}
