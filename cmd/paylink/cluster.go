package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/paylink/paylink/internal/cluster"
	"github.com/paylink/paylink/internal/config"
	"github.com/paylink/paylink/internal/smtpsink"
)

// clusterCmd runs `paylink cluster`: the production topology on this
// machine (see internal/cluster) until ctx ends, with a demo merchant.
// Paylink settings from the environment (PAYLINK_*) apply to every api
// and worker process, except where the cluster decides (addresses,
// DATABASE_URL, Redis).
func clusterCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".data/cluster", "project folder of the cluster's data, logs and state")
	port := fs.Int("port", 8180, "nginx's public port on 127.0.0.1")
	fresh := fs.Bool("fresh", false, "delete an earlier cluster in -dir first")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return exitCode(2)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if *fresh {
		if err := os.RemoveAll(filepath.Join(*dir, "dev.env")); err != nil {
			return err
		}
	}
	if err := localMailConflict(getenv, filepath.Join(*dir, "mail")); err != nil {
		return err
	}
	env, err := devSecrets(*dir)
	if err != nil {
		return err
	}
	env["PAYLINK_WEBHOOK_ALLOW_PRIVATE"] = "true" // local receivers, as with paylink dev
	owned := map[string]bool{"DATABASE_URL": true, "REDIS_URL": true, "PAYLINK_REDIS_SENTINEL_MASTER": true,
		"PAYLINK_ADDR": true, "PAYLINK_BASE_URL": true, "PAYLINK_TRUSTED_PROXIES": true}
	for _, v := range config.Vars() {
		if val := getenv(v.Name); val != "" && !owned[v.Name] {
			env[v.Name] = val
		}
	}
	mailNote := "sent through " + env["PAYLINK_SMTP_HOST"]
	if env["PAYLINK_SMTP_HOST"] == "" {
		mailDir := filepath.Join(*dir, "mail")
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
	c, err := cluster.Start(ctx, cluster.Options{Dir: *dir, Port: *port, Paylink: self, Env: env, Fresh: *fresh, Log: stderr})
	if err != nil {
		return err
	}
	defer c.Stop()
	st := c.State()
	// `set -a; . <dir>/services.env` points paylink ledger verify, paylink
	// queues and psql at the cluster while it runs.
	servicesEnv := filepath.Join(*dir, "services.env")
	if err := os.WriteFile(servicesEnv, []byte(fmt.Sprintf(
		"# The services `paylink cluster` is running now; removed when it stops.\nDATABASE_URL=%s\nREDIS_URL=%s\nPAYLINK_REDIS_SENTINEL_MASTER=%s\n",
		st.DatabaseURL, st.RedisURL, st.RedisMaster)), 0o600); err != nil {
		return err
	}
	defer os.Remove(servicesEnv)

	overlay := func(k string) string {
		switch k {
		case "DATABASE_URL":
			return st.DatabaseURL
		case "REDIS_URL":
			return st.RedisURL
		case "PAYLINK_REDIS_SENTINEL_MASTER":
			return st.RedisMaster
		case "PAYLINK_BASE_URL":
			return st.PublicURL
		}
		return env[k]
	}
	a, err := openApp(ctx, overlay, io.Discard)
	if err != nil {
		return err
	}
	d, err := seedDemo(ctx, a, "")
	a.close()
	if err != nil {
		return err
	}
	var procs []string
	for _, p := range st.Processes {
		procs = append(procs, p.Name)
	}
	fmt.Fprintf(stdout, `
Paylink's production topology is running at %s  (nginx on 127.0.0.1:%d)

  API processes:   %s (behind nginx), and 2 workers
  PostgreSQL:      %s
                   pg_auto_failover monitor %s
  Redis:           %s  (Sentinels; master name %q)
  Processes:       %s
  State, logs:     %s, %s/

  Demo merchant:   %s, API key %s:%s
  Dashboard:       %s/dashboard  (password %s, new at every start)
    curl -u %s:%s %s/v1/merchant
  Checkout link:   %s

  E-mails are %s
  Watch failovers: watch -n1 'PATH=/usr/lib/postgresql/15/bin:$PATH pg_autoctl show state --monitor "%s"'

Ctrl-C stops all of it.
`, st.PublicURL, *port, strings.Join(st.APIs, ", "), st.DatabaseURL, st.MonitorURL, st.RedisURL, st.RedisMaster,
		strings.Join(procs, " "), filepath.Join(*dir, cluster.StateFile), filepath.Join(*dir, "logs"),
		demoEmail, d.key.ID, d.key.Secret, st.PublicURL, d.password, d.key.ID, d.key.Secret, st.PublicURL, a.links.URL(d.link), mailNote, st.MonitorURL)
	<-ctx.Done()
	fmt.Fprintln(stderr, "cluster: stopping")
	return nil
}
