package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/paylink/paylink/internal/notify"
	"github.com/paylink/paylink/internal/webhook/delivery"
)

// Task types and queues of the outboxes.
const (
	TypeWebhookDeliver = "webhook:deliver"
	TypeEmailSend      = "email:send"
	TypeWalletPayout   = "wallet:payout"

	QueueWebhooks = "webhooks"
	QueueEmail    = "email"
	QueuePayouts  = "payouts"
	QueueDefault  = "default"
)

const (
	// relayBatch is how many rows one relay transaction hands over.
	relayBatch = 500
	// webhookMaxRetry only bounds Asynq's own count: PostgreSQL decides
	// when a delivery has had enough attempts.
	webhookMaxRetry = 100
	// emailMaxRetry is how many times a refused e-mail is retried (Asynq's
	// default backoff: about a day in all).
	emailMaxRetry = 12
	// payoutMaxRetry is how many times a payout the processor did not
	// answer is retried by Asynq; after that the sweep hands it over again.
	payoutMaxRetry = 12
)

// deliveryTask is the payload of TypeWebhookDeliver.
type deliveryTask struct {
	MerchantID string `json:"merchant_id"`
	DeliveryID string `json:"delivery_id"`
}

// payoutTask is the payload of TypeWalletPayout.
type payoutTask struct {
	TransactionID string `json:"transaction_id"`
}

// emailTask is the payload of TypeEmailSend.
type emailTask struct {
	EmailID string `json:"email_id"`
}

// enqueuer hands outbox rows to Asynq with the row id as task id, so a
// second hand-over of the same row is refused by Redis and ignored here.
type enqueuer struct {
	client      *asynq.Client
	inspector   *asynq.Inspector
	taskTimeout time.Duration // of a delivery task
	mailTimeout time.Duration // of an e-mail task
}

// EnqueueDelivery queues delivery deliveryID to run at at.
func (q *enqueuer) EnqueueDelivery(ctx context.Context, merchantID, deliveryID string, at time.Time) (bool, error) {
	payload, err := json.Marshal(deliveryTask{MerchantID: merchantID, DeliveryID: deliveryID})
	if err != nil {
		return false, err
	}
	return q.enqueue(ctx, asynq.NewTask(TypeWebhookDeliver, payload), QueueWebhooks, deliveryID,
		asynq.ProcessAt(at), asynq.MaxRetry(webhookMaxRetry), asynq.Timeout(q.taskTimeout))
}

// EnqueueEmail queues e-mail emailID to be sent now.
func (q *enqueuer) EnqueueEmail(ctx context.Context, emailID string) (bool, error) {
	payload, err := json.Marshal(emailTask{EmailID: emailID})
	if err != nil {
		return false, err
	}
	return q.enqueue(ctx, asynq.NewTask(TypeEmailSend, payload), QueueEmail, emailID,
		asynq.MaxRetry(emailMaxRetry), asynq.Timeout(q.mailTimeout))
}

// EnqueuePayout queues the settlement of withdrawal txnID.
func (q *enqueuer) EnqueuePayout(ctx context.Context, txnID string) (bool, error) {
	payload, err := json.Marshal(payoutTask{TransactionID: txnID})
	if err != nil {
		return false, err
	}
	return q.enqueue(ctx, asynq.NewTask(TypeWalletPayout, payload), QueuePayouts, txnID,
		asynq.MaxRetry(payoutMaxRetry), asynq.Timeout(q.mailTimeout))
}

// enqueue adds t with task id taskID. A task with that id that is queued,
// running or waiting for a retry is left alone (false, nil); one Asynq has
// archived or completed while PostgreSQL still holds the row open is
// replaced, so a row is never stuck behind a dead task.
func (q *enqueuer) enqueue(ctx context.Context, t *asynq.Task, queue, taskID string, opts ...asynq.Option) (bool, error) {
	opts = append(opts, asynq.Queue(queue), asynq.TaskID(taskID))
	_, err := q.client.EnqueueContext(ctx, t, opts...)
	if !errors.Is(err, asynq.ErrTaskIDConflict) {
		return err == nil, err
	}
	info, err := q.inspector.GetTaskInfo(queue, taskID)
	if err != nil || (info.State != asynq.TaskStateArchived && info.State != asynq.TaskStateCompleted) {
		return false, nil
	}
	if err := q.inspector.DeleteTask(queue, taskID); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
		return false, fmt.Errorf("replace dead task %s: %w", taskID, err)
	}
	_, err = q.client.EnqueueContext(ctx, t, opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return false, nil
	}
	return err == nil, err
}

// deliverWebhook makes one attempt of a delivery. PostgreSQL holds the
// schedule: a retry's delay comes back in a *delivery.RetryError, which
// retryDelay reads.
func (w *Worker) deliverWebhook(ctx context.Context, t *asynq.Task) error {
	var p deliveryTask
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("bad %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	err := w.d.Deliveries.Deliver(ctx, p.MerchantID, p.DeliveryID)
	if errors.Is(err, delivery.ErrGaveUp) {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return err
}

// sendEmail sends one queued e-mail.
func (w *Worker) sendEmail(ctx context.Context, t *asynq.Task) error {
	var p emailTask
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("bad %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	err := w.d.Mail.Send(ctx, p.EmailID, retried >= maxRetry)
	if errors.Is(err, notify.ErrGaveUp) {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return err
}

// settlePayout pays out one withdrawal and settles it (once, whatever
// ran before: see wallet.(*Service).SettlePayout).
func (w *Worker) settlePayout(ctx context.Context, t *asynq.Task) error {
	var p payoutTask
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("bad %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	return w.d.Wallet.SettlePayout(ctx, w.d.Processor, p.TransactionID)
}

// retryDelay is Asynq's retry delay: the one a webhook attempt asked for,
// a short one after a worker died mid-task (the task's own checks decide
// what to do), else Asynq's default backoff.
func retryDelay(n int, err error, t *asynq.Task) time.Duration {
	var r *delivery.RetryError
	switch {
	case errors.As(err, &r):
		return r.After
	case errors.Is(err, asynq.ErrLeaseExpired):
		return time.Second
	}
	return asynq.DefaultRetryDelayFunc(n, err, t)
}

// runOutbox relays new outbox rows every poll interval and sweeps for rows
// lost from Redis every sweep interval, until ctx ends. Every worker
// replica runs it; rows are claimed with SKIP LOCKED. Each outbox has a
// loop of its own, so a backlog in one never holds up another; with
// Deps.WebhookConcurrency set, new webhook deliveries are attempted here
// rather than handed to Asynq (runFirstAttempts).
func (w *Worker) runOutbox(ctx context.Context) {
	var wg sync.WaitGroup
	every := func(d time.Duration, fn func()) {
		wg.Go(func() {
			t := time.NewTicker(d)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					fn()
				}
			}
		})
	}
	for _, o := range w.outboxes() {
		warned := map[string]time.Time{}
		every(w.d.OutboxPoll, func() { w.round(ctx, func(rctx context.Context) { w.drain(rctx, o, warned) }) })
	}
	if w.d.WebhookConcurrency > 0 {
		wg.Go(func() { w.runFirstAttempts(ctx) })
	}
	every(w.d.OutboxSweep, func() { w.round(ctx, func(rctx context.Context) { w.sweep(rctx, w.d.OutboxSweep) }) })
	wg.Wait()
}

// outbox is one kind of outbox row to relay: a step handles one batch and
// says how many rows it handled.
type outbox struct {
	name string
	step func(ctx context.Context) (int, error)
}

// outboxes are the outboxes the relay drains every poll interval: new
// webhook deliveries to hand to Asynq (unless first attempts are made
// here), events to derive e-mails from, and e-mails to hand to Asynq
// (when an SMTP server is configured).
func (w *Worker) outboxes() []outbox {
	var out []outbox
	if w.d.WebhookConcurrency == 0 {
		out = append(out, outbox{"webhooks", func(ctx context.Context) (int, error) {
			return w.d.Deliveries.Relay(ctx, w.queue, relayBatch)
		}})
	}
	out = append(out, outbox{"events", func(ctx context.Context) (int, error) {
		return w.d.EventMail.ProcessEvents(ctx, relayBatch)
	}})
	if w.d.Wallet != nil {
		out = append(out, outbox{"payouts", func(ctx context.Context) (int, error) {
			return w.d.Wallet.RelayPayouts(ctx, w.queue, relayBatch)
		}})
	}
	if w.d.Mail.Enabled() {
		out = append(out, outbox{"emails", func(ctx context.Context) (int, error) {
			return w.d.Mail.Relay(ctx, w.queue, relayBatch)
		}})
	}
	return out
}

// outboxRound bounds one relay or sweep round, so that a call stuck on a
// database or Redis that went away mid-failover is given up and the next
// round starts over on fresh connections.
const outboxRound = 30 * time.Second

// round runs fn with a context that ends after outboxRound.
func (w *Worker) round(ctx context.Context, fn func(context.Context)) {
	rctx, cancel := context.WithTimeout(ctx, outboxRound)
	defer cancel()
	fn(rctx)
}

// relayWarnEvery limits the relay's warnings while PostgreSQL or Redis is
// unreachable: it retries every poll interval but says so once a minute.
const relayWarnEvery = time.Minute

// relay makes one pass over every outbox (see outboxes).
func (w *Worker) relay(ctx context.Context, warned map[string]time.Time) {
	for _, o := range w.outboxes() {
		w.drain(ctx, o, warned)
	}
}

// drain runs o's step until a batch comes back short. Failures are
// retried next round and logged at most once per relayWarnEvery and
// outbox (warned holds the last times).
func (w *Worker) drain(ctx context.Context, o outbox, warned map[string]time.Time) {
	for ctx.Err() == nil {
		n, err := o.step(ctx)
		if err != nil {
			if !errors.Is(err, context.Canceled) && time.Since(warned[o.name]) >= relayWarnEvery {
				warned[o.name] = time.Now()
				w.d.Log.WarnContext(ctx, "outbox relay failed; retrying every poll interval", "outbox", o.name, "err", err)
			}
			return
		}
		if n < relayBatch {
			return
		}
	}
}

// sweep queues again the deliveries, payouts and e-mails overdue by more
// than grace that Redis lost.
func (w *Worker) sweep(ctx context.Context, grace time.Duration) {
	if w.d.Wallet != nil {
		n, err := w.d.Wallet.SweepPayouts(ctx, w.queue, grace)
		if err != nil {
			w.d.Log.WarnContext(ctx, "outbox sweep failed", "outbox", "payouts", "err", err)
		}
		if n > 0 {
			w.d.Log.WarnContext(ctx, "wallet payouts missing from Redis queued again", "count", n)
		}
	}
	n, err := w.d.Deliveries.Sweep(ctx, w.queue, grace)
	if err != nil {
		w.d.Log.WarnContext(ctx, "outbox sweep failed", "outbox", "webhooks", "err", err)
	}
	if n > 0 {
		w.d.Log.WarnContext(ctx, "webhook deliveries missing from Redis queued again", "count", n)
	}
	if !w.d.Mail.Enabled() {
		return
	}
	n, err = w.d.Mail.Sweep(ctx, w.queue, grace)
	if err != nil {
		w.d.Log.WarnContext(ctx, "outbox sweep failed", "outbox", "emails", "err", err)
	}
	if n > 0 {
		w.d.Log.WarnContext(ctx, "e-mails missing from Redis queued again", "count", n)
	}
}
