package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/paylink/paylink/deploy"
)

// NginxConfig turns deploy/nginx.conf, written for docker-compose.yml,
// into the cluster's: it listens on 127.0.0.1:port instead of port 80,
// balances over the API processes at apiAddrs with the same server
// parameters instead of the "api" service name, and keeps its temporary
// files under dir. Everything else (passive health checks, which requests
// are retried on another replica, timeouts) is the file as written.
func NginxConfig(dir string, port int, apiAddrs []string) (string, error) {
	src := deploy.NginxConf
	var out strings.Builder
	found := map[string]bool{}
	for _, line := range strings.SplitAfter(src, "\n") {
		trimmed := strings.TrimSpace(line)
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		switch {
		case strings.HasPrefix(trimmed, "server api:8080"):
			found["server"] = true
			params := strings.TrimPrefix(trimmed, "server api:8080")
			for _, a := range apiAddrs {
				fmt.Fprintf(&out, "%sserver %s%s\n", indent, a, params)
			}
		case trimmed == "listen 80;":
			found["listen"] = true
			fmt.Fprintf(&out, "%slisten 127.0.0.1:%d;\n", indent, port)
		case trimmed == "http {":
			found["http"] = true
			out.WriteString(line)
			for _, t := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
				fmt.Fprintf(&out, "%s    %s_temp_path %s;\n", indent, t, filepath.Join(dir, "temp", t))
			}
		default:
			out.WriteString(line)
		}
	}
	for _, want := range []string{"server", "listen", "http"} {
		if !found[want] {
			return "", fmt.Errorf("deploy/nginx.conf changed shape: no %q line to adapt", want)
		}
	}
	return out.String(), nil
}

// nginxCommand writes the cluster's nginx configuration under dir and
// returns a function building nginx's command in the foreground.
func nginxCommand(dir string, port int, apiAddrs []string) (func() *exec.Cmd, error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("nginx not found: install the nginx-light package")
		}
	}
	conf, err := NginxConfig(dir, port, apiAddrs)
	if err != nil {
		return nil, err
	}
	for _, t := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		if err := os.MkdirAll(filepath.Join(dir, "temp", t), 0o755); err != nil {
			return nil, err
		}
	}
	global := "daemon off; pid " + filepath.Join(dir, "nginx.pid") + ";"
	if os.Geteuid() == 0 {
		// As root, nginx's workers run as nobody, who must own the
		// temporary folders.
		global += " user nobody nogroup;"
		if u, err := user.Lookup("nobody"); err == nil {
			var uid, gid int
			fmt.Sscan(u.Uid, &uid)
			fmt.Sscan(u.Gid, &gid)
			_ = filepath.Walk(filepath.Join(dir, "temp"), func(p string, _ os.FileInfo, err error) error {
				if err == nil {
					_ = os.Lchown(p, uid, gid)
				}
				return nil
			})
		}
	}
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	return func() *exec.Cmd {
		cmd := exec.Command(bin, "-p", dir, "-c", path, "-e", filepath.Join(dir, "error.log"), "-g", global)
		if f, err := logFile(filepath.Join(dir, "nginx.log")); err == nil {
			cmd.Stdout, cmd.Stderr = f, f
		}
		return cmd
	}, nil
}
