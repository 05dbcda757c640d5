package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	merchantsite "github.com/paylink/paylink/examples/merchant-site"
	"github.com/paylink/paylink/internal/devenv"
	"github.com/paylink/paylink/internal/forms"
	"github.com/paylink/paylink/internal/links"
	"github.com/paylink/paylink/internal/merchant"
	"github.com/paylink/paylink/internal/money"
	"github.com/paylink/paylink/internal/postgres"
	"github.com/paylink/paylink/internal/smtpsink"
)

const demoEmail = "demo@paylink.test"

// dev runs api and worker in one process. Without DATABASE_URL/REDIS_URL
// it starts private servers under PAYLINK_DEV_DIR (default .data), and it
// generates development secrets there once, so restarts keep working.
func dev(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	dir := getenv("PAYLINK_DEV_DIR")
	if dir == "" {
		dir = ".data"
	}
	if err := localMailConflict(getenv, filepath.Join(dir, "mail")); err != nil {
		return err
	}
	// Local webhook receivers (http://localhost:…) are fine in development,
	// and a local client (a test, a load generator, a proxy in front) may
	// name the shopper's address in X-Forwarded-For: risk screening and
	// the per-IP limits then see many shoppers, not one loopback address.
	// A remote client's header is still ignored.
	env := map[string]string{"PAYLINK_ADDR": "127.0.0.1:8080", "PAYLINK_LOG_FORMAT": "text", "PAYLINK_WEBHOOK_ALLOW_PRIVATE": "true",
		"PAYLINK_TRUSTED_PROXIES": "127.0.0.0/8,::1/128"}
	secrets, err := devSecrets(dir)
	if err != nil {
		return err
	}
	for k, v := range secrets {
		env[k] = v
	}
	if getenv("DATABASE_URL") == "" || getenv("REDIS_URL") == "" {
		svc, err := devenv.Start(ctx, devenv.Options{Dir: dir, Log: stderr})
		if err != nil {
			return err
		}
		defer svc.Stop()
		env["DATABASE_URL"], env["REDIS_URL"] = svc.DatabaseURL, svc.RedisURL
		// Other commands (paylink queues, ledger verify, psql) reach these
		// services through this file while dev runs: `set -a; . .data/services.env`.
		servicesEnv := filepath.Join(dir, "services.env")
		content := fmt.Sprintf("# The services `paylink dev` is running now; removed when it stops.\nDATABASE_URL=%s\nREDIS_URL=%s\n",
			svc.DatabaseURL, svc.RedisURL)
		if err := os.WriteFile(servicesEnv, []byte(content), 0o600); err != nil {
			return err
		}
		defer os.Remove(servicesEnv)
	}
	mailNote := "sent through " + getenv("PAYLINK_SMTP_HOST")
	if getenv("PAYLINK_SMTP_HOST") == "" {
		// E-mails go to a local sink that writes each one to a file.
		mailDir := filepath.Join(dir, "mail")
		handle, err := smtpsink.Dir(mailDir)
		if err != nil {
			return err
		}
		sink, err := smtpsink.Listen("127.0.0.1:0", handle)
		if err != nil {
			return err
		}
		defer sink.Close()
		env["PAYLINK_SMTP_HOST"], env["PAYLINK_SMTP_PORT"] = "127.0.0.1", strconv.Itoa(sink.Addr().Port)
		mailNote = "written as files to " + mailDir + "/"
	}
	overlay := func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return env[k]
	}
	if _, err := postgres.Migrate(overlay("DATABASE_URL")); err != nil {
		return err
	}
	a, err := openApp(ctx, overlay, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	// Several checkouts on one machine each run a dev: the default metrics
	// port may be taken, which must not stop development.
	a.metricsFallback = getenv("PAYLINK_METRICS_ADDR") == ""
	site, siteOrigin := listenExample(getenv("PAYLINK_EXAMPLE_ADDR"), stderr)
	if site != nil {
		defer site.Close()
	}
	d, err := seedDemo(ctx, a, siteOrigin)
	if err != nil {
		return err
	}
	key, link := d.key, d.link
	siteNote := "not started (see above)"
	if site != nil {
		h, err := merchantsite.Handler(a.cfg.BaseURL.String(), d.form.ID)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(site)
		defer srv.Close()
		siteNote = fmt.Sprintf("%s/   (payment form %s, allowed there only)", siteOrigin, d.form.ID)
	}
	return a.serve(ctx, true, true, func(addr string) {
		base := a.cfg.BaseURL.String()
		fmt.Fprintf(stdout, `
Paylink is running (API, checkout and worker) at %s  (listening on %s)

  Dashboard:       %s/dashboard
  Demo merchant:   Demo Shop <%s>, password %s   (new at every start)
  API key id:      %s
  API key secret:  %s   (shown once; a new pair is made at every start)

  Try it:
    curl -u %s:%s %s/v1/merchant

  Checkout link (reusable, %s, valid 7 days; pay with 4242 4242 4242 4242,
  any future expiry, any CVC; 4000 0000 0000 3220 shows the challenge):
    %s

  Embedded payment form on an example merchant site (a second origin;
  examples/merchant-site, the JS SDK served at %s/sdk/paylink.js):
    %s

  Stateless signed link, made offline with the key secret (sdk/js signLink;
  one successful payment per reference):
    %s

  E-mails (receipts, notifications) are %s

  Metrics (Prometheus; not on the public address): http://%s/metrics

Ctrl-C stops Paylink and the services it started.
`, base, addr, base, demoEmail, d.password, key.ID, key.Secret, key.ID, key.Secret, base, link.Amount, a.links.URL(link),
			base, siteNote, d.signed, mailNote, a.metricsAddr)
	})
}

// listenExample opens the listener of the example merchant site on addr
// (default 127.0.0.1:8081; "off" for none) and returns it with the site's
// origin. A site that cannot listen is reported on stderr and skipped:
// Paylink itself still starts.
func listenExample(addr string, stderr io.Writer) (net.Listener, string) {
	if addr == "" {
		addr = "127.0.0.1:8081"
	}
	if addr == "off" {
		return nil, ""
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		fmt.Fprintf(stderr, "paylink dev: PAYLINK_EXAMPLE_ADDR %q: %v; example merchant site not started\n", addr, err)
		return nil, ""
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "paylink dev: example merchant site not started: %v\n", err)
		return nil, ""
	}
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return ln, "http://" + net.JoinHostPort(host, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
}

// demo is what seedDemo made.
type demo struct {
	password string // the dashboard password, new at every start
	key      *merchant.APIKey
	link     *links.Link
	form     *forms.Form // nil without an example site
	signed   string      // a signed link's URL
}

// seedDemo makes sure the demo merchant exists and gives it a fresh key
// pair, revoking the pairs printed by earlier runs, a fresh reusable
// checkout link to try, a payment form allowed on siteOrigin (the example
// merchant site; none when it is ""), and a signed link.
func seedDemo(ctx context.Context, a *app, siteOrigin string) (demo, error) {
	var (
		key  *merchant.APIKey
		link *links.Link
		form *forms.Form
	)
	pw := make([]byte, 12)
	_, _ = rand.Read(pw)
	password := base64.RawURLEncoding.EncodeToString(pw)
	hash, err := a.passwords.Hash(ctx, password)
	if err != nil {
		return demo{}, err
	}
	err = a.db.WithTx(ctx, func(tx pgx.Tx) error {
		m, err := a.merchants.FindByEmail(ctx, tx, demoEmail)
		switch {
		case errors.Is(err, merchant.ErrNotFound):
			su := merchant.SignUp{Name: "Demo Shop", Email: demoEmail, Password: password}
			if m, key, err = a.merchants.SignUp(ctx, tx, su, hash); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if key, err = a.merchants.CreateKey(ctx, tx, m.ID); err != nil {
				return err
			}
			if err := a.merchants.RevokeKeysExcept(ctx, tx, m.ID, key.ID); err != nil {
				return err
			}
			if err := merchant.SetPasswordHash(ctx, tx, m.ID, hash); err != nil {
				return err
			}
		}
		week := int64(7 * 24 * 3600)
		link, err = a.links.Create(ctx, tx, m.ID, links.NewLink{
			Amount: money.Amount{Minor: 2500, Currency: money.USD}, Description: "Paylink demo T-shirt",
			ExpiresIn: &week, Metadata: map[string]string{"source": "paylink dev"}})
		if err != nil || siteOrigin == "" {
			return err
		}
		min, max := int64(500), int64(50000)
		form, err = a.forms.Create(ctx, tx, m.ID, forms.NewForm{
			Title: "A bag of beans", Description: "Pay what you like, from $5 to $500.", Currency: money.USD,
			AmountMin: &min, AmountMax: &max, Collect: []string{"phone"}, AllowedOrigins: []string{siteOrigin},
			Metadata: map[string]string{"source": "paylink dev"}})
		return err
	})
	if err != nil {
		return demo{}, fmt.Errorf("seed demo merchant: %w", err)
	}
	ref := make([]byte, 4)
	_, _ = rand.Read(ref)
	signed := links.SignedURL(a.cfg.BaseURL, key.Secret, map[string]string{
		"key": key.ID, "amount": "1500", "currency": "USD", "ref": fmt.Sprintf("demo-%x", ref),
		"exp": strconv.FormatInt(time.Now().Add(7*24*time.Hour).Unix(), 10), "description": "Paylink demo mug"})
	return demo{password: password, key: key, link: link, form: form, signed: signed}, nil
}

// localMailConflict refuses mail settings that cannot apply to the local
// sink dev and cluster use when PAYLINK_SMTP_HOST is unset: it listens on
// a port of its own and speaks plain SMTP without authentication.
func localMailConflict(getenv func(string) string, mailDir string) error {
	if getenv("PAYLINK_SMTP_HOST") != "" {
		return nil
	}
	for _, k := range []string{"PAYLINK_SMTP_PORT", "PAYLINK_SMTP_USERNAME", "PAYLINK_SMTP_PASSWORD"} {
		if getenv(k) != "" {
			return fmt.Errorf("%s is set but PAYLINK_SMTP_HOST is not: e-mails go to the local sink (files in %s/); set PAYLINK_SMTP_HOST to use your mail server, or unset %s", k, mailDir, k)
		}
	}
	if tls := strings.ToLower(getenv("PAYLINK_SMTP_TLS")); tls == "starttls" || tls == "implicit" {
		return fmt.Errorf("PAYLINK_SMTP_TLS=%s but PAYLINK_SMTP_HOST is not set: e-mails go to the local sink (files in %s/), which speaks plain SMTP; set PAYLINK_SMTP_HOST to use your mail server, or unset PAYLINK_SMTP_TLS", tls, mailDir)
	}
	return nil
}

// devSecrets reads dir/dev.env, creating it with fresh random keys the
// first time. These keys protect only local development data.
func devSecrets(dir string) (map[string]string, error) {
	path := filepath.Join(dir, "dev.env")
	// Each secret's value: a master key (version 1), and an Ed25519 seed
	// for signed returns (kid r1).
	prefixes := map[string]string{"PAYLINK_ENCRYPTION_KEYS": "1:", "PAYLINK_RETURN_SIGNING_KEYS": "r1:"}
	want := []string{"PAYLINK_ENCRYPTION_KEYS", "PAYLINK_RETURN_SIGNING_KEYS"}
	got := map[string]string{}
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), "="); ok {
				got[k] = v
			}
		}
		f.Close()
	}
	changed := false
	for _, k := range want {
		if got[k] == "" {
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			got[k] = prefixes[k] + base64.StdEncoding.EncodeToString(b)
			changed = true
		}
	}
	if changed {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		var sb strings.Builder
		sb.WriteString("# Development-only secrets, generated by `paylink dev`. Never use in production.\n")
		for _, k := range want {
			fmt.Fprintf(&sb, "%s=%s\n", k, got[k])
		}
		if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
			return nil, err
		}
	}
	return got, nil
}

// devenvExec runs a command with DATABASE_URL and REDIS_URL (and their
// PAYLINK_TEST_ twins) pointing at private servers it starts, or at the
// ones already given, and stops the servers after.
func devenvExec(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("devenv", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".data/test", "data folder for the private servers")
	fast := fs.Bool("fast", false, "turn off fsync (throwaway test data only)")
	if err := fs.Parse(args); err != nil {
		return exitCode(2)
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: paylink devenv [-dir D] [-fast] -- CMD [ARGS…]")
		return exitCode(2)
	}
	dbURL, redisURL := getenv("DATABASE_URL"), getenv("REDIS_URL")
	if dbURL == "" || redisURL == "" {
		svc, err := devenv.Start(ctx, devenv.Options{Dir: *dir, Fast: *fast, Log: stderr})
		if err != nil {
			return err
		}
		defer svc.Stop()
		dbURL, redisURL = svc.DatabaseURL, svc.RedisURL
	}
	cmd := exec.CommandContext(ctx, fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdout, cmd.Stderr, cmd.Stdin = stdout, stderr, os.Stdin
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+dbURL, "REDIS_URL="+redisURL,
		"PAYLINK_TEST_DATABASE_URL="+dbURL, "PAYLINK_TEST_REDIS_URL="+redisURL)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exitCode(exit.ExitCode())
	}
	return err
}
