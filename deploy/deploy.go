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
