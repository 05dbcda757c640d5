package deploy

import (
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

func TestComposeFile(t *testing.T) {
	raw, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	for _, name := range []string{"postgres", "redis", "migrate", "api", "worker", "nginx"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("service %s missing", name)
		}
	}
	if r := c.Services["api"].Deploy.Replicas; r < 2 {
		t.Errorf("api replicas = %d, want at least 2", r)
	}
	for name, cmd := range map[string]string{"api": "api", "worker": "worker", "migrate": "migrate"} {
		s := c.Services[name]
		if s.Build == nil || len(s.Command) != 1 || s.Command[0] != cmd {
			t.Errorf("service %s: build %v command %v; want the paylink image running %q", name, s.Build, s.Command, cmd)
		}
	}
	// Every Paylink variable the file sets must be one the binary reads.
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
	if !strings.Contains(string(raw), "./deploy/nginx.conf:/etc/nginx/nginx.conf") {
		t.Error("nginx does not mount deploy/nginx.conf")
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
