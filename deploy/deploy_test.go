package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/paylink/paylink/internal/config"
)

type compose struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		DependsOn   any               `yaml:"depends_on"`
		Deploy      struct {
			Replicas int `yaml:"replicas"`
		} `yaml:"deploy"`
	} `yaml:"services"`
}

// interpolate does what docker compose does to ${VAR:-default} (the
// default) and ${VAR:?message} (a value of the right shape here).
func interpolate(v string) string {
	return regexp.MustCompile(`\$\{([A-Z_]+)(:-|:\?)([^}]*)\}`).ReplaceAllStringFunc(v, func(m string) string {
		p := regexp.MustCompile(`\$\{([A-Z_]+)(:-|:\?)([^}]*)\}`).FindStringSubmatch(m)
		if p[2] == ":-" {
			return p[3]
		}
		if p[1] == "PAYLINK_ENCRYPTION_KEYS" {
			return "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
		}
		return "x"
	})
}

// TestComposeFile checks that docker-compose.yml describes make cluster's
// topology and that the API and worker configuration is one Paylink
// accepts: both data nodes, the primary only, the three Sentinels.
func TestComposeFile(t *testing.T) {
	raw, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	for _, name := range []string{"monitor", "postgres-1", "postgres-2", "redis-1", "redis-2",
		"sentinel-1", "sentinel-2", "sentinel-3", "migrate", "api", "worker", "nginx"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("service %s missing", name)
		}
	}
	for _, name := range []string{"api", "worker"} {
		if r := c.Services[name].Deploy.Replicas; r < 2 {
			t.Errorf("%s replicas = %d, want at least 2", name, r)
		}
	}
	for name, cmd := range map[string]string{"api": "api", "worker": "worker", "migrate": "migrate"} {
		s := c.Services[name]
		if s.Build == nil || len(s.Command) != 1 || s.Command[0] != cmd {
			t.Errorf("service %s: build %v command %v; want the paylink image running %q", name, s.Build, s.Command, cmd)
		}
	}
	for name, cmd := range map[string]string{"monitor": "monitor", "postgres-1": "postgres postgres-1", "postgres-2": "postgres postgres-2"} {
		s := c.Services[name]
		if s.Build != "./deploy/postgres" || strings.Join(s.Command, " ") != cmd {
			t.Errorf("service %s: build %v command %v; want deploy/postgres running %q", name, s.Build, s.Command, cmd)
		}
	}
	if cmd := strings.Join(c.Services["redis-2"].Command, " "); !strings.Contains(cmd, "--replicaof redis-1 6379") {
		t.Errorf("redis-2 is not a replica of redis-1: %s", cmd)
	}
	// Every Paylink variable the file sets must be one the binary reads,
	// and the whole set must load.
	known := map[string]bool{}
	for _, v := range config.Vars() {
		known[v.Name] = true
	}
	for name, s := range c.Services {
		for k := range s.Environment {
			if (strings.HasPrefix(k, "PAYLINK_") || k == "DATABASE_URL" || k == "REDIS_URL") && !known[k] {
				t.Errorf("service %s sets %s, which paylink does not read", name, k)
			}
		}
	}
	env := c.Services["api"].Environment
	cfg, err := config.Load(func(k string) string { return interpolate(env[k]) })
	if err != nil {
		t.Fatalf("the api's environment does not load: %v", err)
	}
	if got := cfg.Redis; got.MasterName == "" || len(got.Addrs) != 3 {
		t.Errorf("Redis = %+v; want the three Sentinels and a master name", got)
	}
	for i := 1; i <= 3; i++ {
		cmd := strings.Join(c.Services[fmt.Sprintf("sentinel-%d", i)].Command, " ")
		if !strings.Contains(cmd, "sentinel monitor "+cfg.Redis.MasterName+" redis-1 6379 2") {
			t.Errorf("sentinel-%d does not watch master %q on redis-1 with a quorum of 2: %s", i, cfg.Redis.MasterName, cmd)
		}
	}
	if !strings.Contains(cfg.DatabaseURL, "@postgres-1:5432,postgres-2:5432/") {
		t.Errorf("DATABASE_URL %q does not name both data nodes", cfg.DatabaseURL)
	}
	if !strings.Contains(string(raw), "./deploy/nginx.conf:/etc/nginx/nginx.conf") {
		t.Error("nginx does not mount deploy/nginx.conf")
	}
}

// TestPostgresImage checks the data nodes' image: its entrypoint is valid
// shell and it ships the settings make cluster uses too.
func TestPostgresImage(t *testing.T) {
	if out, err := exec.Command("sh", "-n", "postgres/entrypoint.sh").CombinedOutput(); err != nil {
		t.Fatalf("postgres/entrypoint.sh: %v\n%s", err, out)
	}
	raw, err := os.ReadFile("postgres/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"postgresql-15-auto-failover", "COPY monitor.conf node.conf /etc/paylink/", "USER postgres"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("postgres/Dockerfile lacks %q", want)
		}
	}
	if !strings.Contains(MonitorConf, "pgautofailover.primary_demote_timeout") || !strings.Contains(NodeConf, "shared_buffers") {
		t.Error("monitor.conf or node.conf lost its settings")
	}
}

func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	if n := len(regexp.MustCompile(`(?m)^FROM `).FindAllString(s, -1)); n < 2 {
		t.Errorf("Dockerfile has %d stages, want a multi-stage build", n)
	}
	for _, want := range []string{"CGO_ENABLED=0", "USER nonroot", "./cmd/paylink"} {
		if !strings.Contains(s, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}

// TestNginxConfig runs `nginx -t` on deploy/nginx.conf. The compose
// service name "api" only resolves inside Docker's network, so the test
// points the upstream at a loopback address; everything else is checked
// as written.
func TestNginxConfig(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
	}
	raw, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "server api:8080") {
		t.Fatal("nginx.conf no longer balances over the api service")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	local := strings.Replace(string(raw), "server api:8080", "server 127.0.0.1:8080", 1)
	if err := os.WriteFile(conf, []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-t", "-q", "-e", "stderr", "-p", dir, "-c", conf, "-g", "pid "+filepath.Join(dir, "nginx.pid")+";").CombinedOutput()
	if err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
}
