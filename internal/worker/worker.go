// Package worker runs Paylink's background work on Asynq: the task server
// with its handlers, and the scheduler that enqueues periodic maintenance.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/hibiken/asynq"

	"github.com/paylink/paylink/internal/checkout"
	"github.com/paylink/paylink/internal/checkout/settle"
	"github.com/paylink/paylink/internal/eventmail"
	"github.com/paylink/paylink/internal/idempotency"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/lockout"
	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/passkey"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/processor"
	"github.com/paylink/paylink/internal/wallet"
	"github.com/paylink/paylink/internal/walletsecurity"
	"github.com/paylink/paylink/internal/webhook/delivery"
)

// Task type names.
const (
	TypeIdempotencyCleanup = "maintenance:idempotency_cleanup"
	TypeRetention          = "maintenance:retention"
	TypeWalletCleanup      = "maintenance:wallet_cleanup"
	TypeEmailQuotaCleanup  = "maintenance:email_quota_cleanup"
	TypeWalletCaptures     = "wallet:capture_due"
	TypeExpireLinks        = "links:expire"
	TypeSettle             = "checkout:settle"
	TypeRiskRollup         = "risk:rollup"
	TypePaymentRollup      = "payments:rollup"
)

// Deps is what the worker needs, built by run.
type Deps struct {
	Log                  *slog.Logger
	DB                   *postgres.DB
	Redis                asynq.RedisConnOpt
	Concurrency          int
	ShutdownTimeout      time.Duration
	IdempotencyRetention time.Duration
	// WebhookRetention is how long finished webhook deliveries and their
	// attempts are kept, EmailRetention how long sent e-mails are; 0 keeps
	// them forever.
	WebhookRetention time.Duration
	EmailRetention   time.Duration
	Idempotency      *idempotency.Store
	Now              func() time.Time
	Wallet           *wallet.Service
	Processor        processor.Processor

	// Deliveries makes the webhook deliveries.
	Deliveries *delivery.Service
	// EventMail derives the e-mails of recorded events.
	EventMail *eventmail.Service
	Mail      *notify.Sender
	// WebhookTimeout bounds one delivery attempt; the task gets a little more.
	WebhookTimeout time.Duration
	// WebhookConcurrency is how many first attempts of new webhook
	// deliveries the worker makes at once straight from the outbox; 0
	// hands every attempt to Asynq.
	WebhookConcurrency int
	// MailTimeout bounds one SMTP conversation.
	MailTimeout time.Duration
	// OutboxPoll is how often new outbox rows are handed to Asynq, and how
	// often Asynq looks for due tasks.
	OutboxPoll time.Duration
	// OutboxSweep is how often, and after how long overdue, rows missing
	// from Redis are handed over again.
	OutboxSweep   time.Duration
	Links         *links.Service
	Checkout      *checkout.Service
	CheckoutEvery time.Duration // how often links expire and checkout settles
}

// Worker processes tasks until its context ends.
type Worker struct {
	d         Deps
	server    *asynq.Server
	scheduler *asynq.Scheduler
	mux       *asynq.ServeMux
	queue     *enqueuer
}

// New builds the task server, its handlers and the periodic schedule.
func New(d Deps) (*Worker, error) {
	w := &Worker{d: d, mux: asynq.NewServeMux()}
	logger := asynqLogger{d.Log}
	w.server = asynq.NewServer(d.Redis, asynq.Config{
		Concurrency:     d.Concurrency,
		ShutdownTimeout: d.ShutdownTimeout,
		Logger:          logger,
		LogLevel:        asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			retried, _ := asynq.GetRetryCount(ctx)
			maxRetry, _ := asynq.GetMaxRetry(ctx)
			d.Log.ErrorContext(ctx, "task failed", "type", t.Type(), "err", err, "retry", retried, "max_retry", maxRetry)
		}),

		// Payouts have money in flight: they do not wait behind maintenance.
		Queues:         map[string]int{QueueWebhooks: 6, QueueEmail: 3, QueuePayouts: 3, QueueDefault: 1},
		RetryDelayFunc: retryDelay,
		// New tasks and due retries are noticed within one poll interval.
		TaskCheckInterval:        d.OutboxPoll,
		DelayedTaskCheckInterval: d.OutboxPoll,
	})
	w.scheduler = asynq.NewScheduler(d.Redis, &asynq.SchedulerOpts{Logger: logger, LogLevel: asynq.WarnLevel})

	w.queue = &enqueuer{client: asynq.NewClient(d.Redis), inspector: asynq.NewInspector(d.Redis),
		taskTimeout: d.WebhookTimeout + 30*time.Second, mailTimeout: d.MailTimeout + 30*time.Second}
	w.mux.HandleFunc(TypeIdempotencyCleanup, w.cleanIdempotency)
	w.mux.HandleFunc(TypeWebhookDeliver, w.deliverWebhook)
	w.mux.HandleFunc(TypeEmailSend, w.sendEmail)
	w.mux.HandleFunc(TypeWalletPayout, w.settlePayout)
	// Every replica's scheduler registers the same entries; Unique makes
	// the copies enqueued within one period collapse into one task.
	if _, err := w.scheduler.Register("@every 1h", asynq.NewTask(TypeIdempotencyCleanup, nil),
		asynq.Unique(55*time.Minute), asynq.MaxRetry(3)); err != nil {
		return nil, fmt.Errorf("schedule idempotency clean-up: %w", err)
	}
	w.mux.HandleFunc(TypeRetention, w.purgeOld)
	if _, err := w.scheduler.Register("@every 10m", asynq.NewTask(TypeRetention, nil),
		asynq.Unique(9*time.Minute), asynq.MaxRetry(3), asynq.Timeout(time.Hour)); err != nil {
		return nil, fmt.Errorf("schedule retention: %w", err)
	}
	w.mux.HandleFunc(TypeWalletCleanup, w.cleanWallet)
	if _, err := w.scheduler.Register("@every 1h", asynq.NewTask(TypeWalletCleanup, nil),
		asynq.Unique(55*time.Minute), asynq.MaxRetry(3)); err != nil {
		return nil, fmt.Errorf("schedule wallet clean-up: %w", err)
	}
	w.mux.HandleFunc(TypeEmailQuotaCleanup, w.cleanEmailQuotas)
	if _, err := w.scheduler.Register("@every 1h", asynq.NewTask(TypeEmailQuotaCleanup, nil),
		asynq.Unique(55*time.Minute), asynq.MaxRetry(3)); err != nil {
		return nil, fmt.Errorf("schedule e-mail quota clean-up: %w", err)
	}
	w.mux.HandleFunc(TypeRiskRollup, w.rollupRisk)
	if _, err := w.scheduler.Register("@every 15m", asynq.NewTask(TypeRiskRollup, nil),
		asynq.Unique(14*time.Minute), asynq.MaxRetry(3), asynq.Timeout(time.Hour)); err != nil {
		return nil, fmt.Errorf("schedule risk rollup: %w", err)
	}
	w.mux.HandleFunc(TypePaymentRollup, w.rollupPayments)
	if _, err := w.scheduler.Register("@every 15m", asynq.NewTask(TypePaymentRollup, nil),
		asynq.Unique(14*time.Minute), asynq.MaxRetry(3), asynq.Timeout(time.Hour)); err != nil {
		return nil, fmt.Errorf("schedule payment rollup: %w", err)
	}
	w.mux.HandleFunc(TypeWalletCaptures, w.captureTopUps)
	if _, err := w.scheduler.Register("@every 1m", asynq.NewTask(TypeWalletCaptures, nil),
		asynq.Unique(55*time.Second), asynq.MaxRetry(0)); err != nil {
		return nil, fmt.Errorf("schedule wallet captures: %w", err)
	}

	w.mux.HandleFunc(TypeExpireLinks, w.expireLinks)
	w.mux.HandleFunc(TypeSettle, w.settle)
	every := fmt.Sprintf("@every %s", d.CheckoutEvery)
	unique := max(d.CheckoutEvery*9/10, time.Second)
	if _, err := w.scheduler.Register(every, asynq.NewTask(TypeExpireLinks, nil),
		asynq.Unique(unique), asynq.MaxRetry(2), asynq.Timeout(d.CheckoutEvery+time.Minute)); err != nil {
		return nil, fmt.Errorf("schedule link expiry: %w", err)
	}
	if _, err := w.scheduler.Register(every, asynq.NewTask(TypeSettle, nil),
		asynq.Unique(unique), asynq.MaxRetry(2), asynq.Timeout(d.CheckoutEvery+time.Minute)); err != nil {
		return nil, fmt.Errorf("schedule checkout settlement: %w", err)
	}
	return w, nil
}

// Run serves tasks until ctx ends, then lets running tasks finish for up to
// the shutdown timeout; unfinished tasks go back to their queue.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.server.Start(w.mux); err != nil {
		return fmt.Errorf("start task server: %w", err)
	}
	if err := w.scheduler.Start(); err != nil {
		w.server.Shutdown()
		return fmt.Errorf("start scheduler: %w", err)
	}
	if !w.d.Mail.Enabled() {
		w.d.Log.Warn("no SMTP server configured (PAYLINK_SMTP_HOST): e-mails stay queued until one is")
	}
	outboxDone := make(chan struct{})
	go func() {
		defer close(outboxDone)
		w.runOutbox(ctx)
	}()
	<-ctx.Done()
	// Asynq stops taking tasks at once while the outbox winds down; tasks
	// and first attempts in flight each get up to the shutdown timeout.
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		w.scheduler.Shutdown()
		w.server.Shutdown()
	}()
	<-outboxDone
	<-stopped
	w.queue.client.Close()
	w.queue.inspector.Close()
	return nil
}

// cleanIdempotency deletes records past their retention and drops the
// secret from answers older than idempotency.SecretReplay.
func (w *Worker) cleanIdempotency(ctx context.Context, _ *asynq.Task) error {
	n, err := idempotency.DeleteBefore(ctx, w.d.DB.Pool, w.d.Now().Add(-w.d.IdempotencyRetention))
	if err != nil {
		return err
	}
	forgotten, err := w.d.Idempotency.ForgetSecrets(ctx, w.d.DB.Pool, w.d.Now())
	if err != nil {
		return err
	}
	w.d.Log.InfoContext(ctx, "idempotency keys cleaned", "deleted", n, "secrets_forgotten", forgotten)
	return nil
}

// cleanWallet deletes expired passkey challenges, sessions and password
// reset links that expired over a day ago and log-in attempt counts whose
// window ended over a day ago (and whose lock, if any, is over).
func (w *Worker) cleanWallet(ctx context.Context, _ *asynq.Task) error {
	now := w.d.Now()
	attempts, err := lockout.DeleteStale(ctx, w.d.DB.Pool, now, now.Add(-24*time.Hour))
	if err != nil {
		return err
	}
	challenges, err := passkey.DeleteExpiredChallenges(ctx, w.d.DB.Pool, now)
	if err != nil {
		return err
	}
	sessions, err := wallet.DeleteExpiredSessions(ctx, w.d.DB.Pool, now.Add(-24*time.Hour))
	if err != nil {
		return err
	}
	resets, err := walletsecurity.DeleteExpiredResets(ctx, w.d.DB.Pool, now.Add(-24*time.Hour))
	if err != nil {
		return err
	}
	w.d.Log.InfoContext(ctx, "wallet cleaned", "challenges", challenges, "sessions", sessions, "login_attempts", attempts,
		"password_resets", resets)
	return nil
}

// cleanEmailQuotas drops shopper e-mail counts of windows that started
// over a week ago (the longest window a limit may use is a day).
func (w *Worker) cleanEmailQuotas(ctx context.Context, _ *asynq.Task) error {
	n, err := notify.DeleteQuotasBefore(ctx, w.d.DB.Pool, w.d.Now().Add(-7*24*time.Hour))
	if err != nil {
		return err
	}
	w.d.Log.InfoContext(ctx, "e-mail quotas cleaned", "deleted", n)
	return nil
}

// captureTopUps captures wallet top-ups whose request committed the credit
// but did not capture (a crash, or the processor was down), a minute on,
// and cancels top-ups whose challenge nobody answered in time, releasing
// their holds.
func (w *Worker) captureTopUps(ctx context.Context, _ *asynq.Task) error {
	n, err := w.d.Wallet.CaptureDue(ctx, w.d.Processor, w.d.Now().Add(-time.Minute), 100)
	if n > 0 {
		w.d.Log.InfoContext(ctx, "wallet top-ups captured", "count", n)
	}
	refs, expErr := w.d.Wallet.ExpireTopUps(ctx, w.d.Now().Add(-wallet.ChallengeTimeout), 100)
	for _, ref := range refs {
		// A hold not released lapses at the issuer by itself.
		if err := w.d.Processor.Void(ctx, "wallet-void:"+ref, ref); err != nil {
			w.d.Log.WarnContext(ctx, "abandoned top-up's hold not released", "ref", ref, "err", err)
		}
	}
	if len(refs) > 0 {
		w.d.Log.InfoContext(ctx, "abandoned wallet top-ups canceled", "count", len(refs))
	}
	return errors.Join(err, expErr)
}

// expireLinks stores the expired status of links past expiry and records
// payment_link.expired for each, in batches until none is left; then it
// queues the link reminders that are due (links.SendReminders).
func (w *Worker) expireLinks(ctx context.Context, _ *asynq.Task) error {
	total := 0
	for {
		n, err := w.d.Links.ExpireDue(ctx, w.d.DB, expireBatch)
		total += n
		if err != nil {
			return err
		}
		if n < expireBatch {
			break
		}
	}
	if total > 0 {
		w.d.Log.InfoContext(ctx, "payment links expired", "count", total)
	}
	// Then the reminders of links sent by e-mail that are due.
	for {
		n, err := w.d.Links.SendReminders(ctx, w.d.DB, expireBatch)
		if n > 0 {
			w.d.Log.InfoContext(ctx, "payment link reminders queued", "count", n)
		}
		if err != nil || n < expireBatch {
			return err
		}
	}
}

// expireBatch is how many links one expiry transaction marks.
const expireBatch = 500

// settle captures queued authorizations and finishes refunds and
// challenges that a crash interrupted.
func (w *Worker) settle(ctx context.Context, _ *asynq.Task) error {
	rep, err := settle.New(w.d.Checkout, w.d.Now).Run(ctx, w.d.DB)
	if rep != (settle.Report{}) {
		w.d.Log.InfoContext(ctx, "checkout settled", "captured", rep.Captured, "refunds_sent", rep.RefundsSent,
			"challenges_resumed", rep.Resumed, "challenges_canceled", rep.Canceled)
	}
	return err
}

// asynqLogger sends Asynq's own log lines to slog.
type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Error(args ...any) { l.log.Error(fmt.Sprint(args...), "component", "asynq") }

// Fatal is called by Asynq only when it cannot go on; like log.Fatal it
// exits.
func (l asynqLogger) Fatal(args ...any) {
	l.log.Error(fmt.Sprint(args...), "component", "asynq")
	os.Exit(1)
}
