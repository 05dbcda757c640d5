#!/bin/sh
# Runs a pg_auto_failover monitor or data node for docker-compose.yml,
# creating it on first start with Paylink's settings (monitor.conf,
# node.conf), as `make cluster` does on one machine.
#
# usage: entrypoint.sh monitor | entrypoint.sh postgres <node name>
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA
if [ ! -f "$PGDATA/PG_VERSION" ]; then
	case "$1" in
	monitor)
		pg_autoctl create monitor --hostname "$(hostname)" --auth trust --ssl-self-signed
		cat /etc/paylink/monitor.conf >>"$PGDATA/postgresql.auto.conf"
		;;
	postgres)
		# --pg-hba-lan lets the API and worker containers in (database
		# paylink, user paylink) from the compose network.
		pg_autoctl create postgres --hostname "$2" --name "$2" --dbname paylink --username paylink \
			--auth trust --ssl-self-signed --pg-hba-lan --replication-quorum true \
			--monitor "postgres://autoctl_node@monitor:5432/pg_auto_failover?sslmode=require"
		cat /etc/paylink/node.conf >>"$PGDATA/postgresql.auto.conf"
		pg_autoctl config set timeout.network_partition_timeout 5
		;;
	*)
		echo "usage: $0 monitor | $0 postgres <node name>" >&2
		exit 2
		;;
	esac
fi
exec pg_autoctl run
