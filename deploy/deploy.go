// Package deploy holds the production deployment files (nginx) and the
// tests that check them, together with the Dockerfile and
// docker-compose.yml, with what runs on a machine without a Docker engine.
// `paylink cluster` runs the same nginx configuration on one machine.
package deploy

import _ "embed"

// NginxConf is nginx.conf: nginx in front of the API replicas, the one
// docker-compose.yml mounts.
//
//go:embed nginx.conf
var NginxConf string

// MonitorConf and NodeConf are postgres/monitor.conf and postgres/node.conf:
// the settings a pg_auto_failover monitor and a data node get when they
// are created, in docker-compose.yml and in `paylink cluster` alike.
var (
	//go:embed postgres/monitor.conf
	MonitorConf string
	//go:embed postgres/node.conf
	NodeConf string
)
