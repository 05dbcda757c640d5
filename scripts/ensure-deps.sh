#!/usr/bin/env bash
# Installs, from Debian's packages, what `make run`, `make test`,
# `make bench` or `make cluster` / `make chaos` need and this machine
# lacks. With DATABASE_URL / REDIS_URL set, the PostgreSQL / Redis servers
# are not needed (except for the cluster, which always runs its own).
# Nothing is installed when everything is present.
#
# usage: scripts/ensure-deps.sh run|test|bench|cluster
set -euo pipefail

purpose=${1:-run}
need=()

# The SDK's tests (sdk/js, node --test) need Node.js 18 or newer; Debian 12's
# nodejs package is 18.
have_node18() {
	command -v node >/dev/null 2>&1 &&
		node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'
}

have_pg_server() {
	command -v initdb >/dev/null 2>&1 && return 0
	compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

if [[ -z "${DATABASE_URL:-}" || $purpose == cluster ]] && ! have_pg_server; then
	need+=(postgresql)
fi
if [[ -z "${REDIS_URL:-}" || $purpose == cluster ]] && ! command -v redis-server >/dev/null 2>&1; then
	need+=(redis-server)
fi
case "$purpose" in
test)
	command -v chromium >/dev/null 2>&1 || need+=(chromium)
	command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need+=(nginx-light)
	have_node18 || need+=(nodejs)
	;;
cluster)
	# pg_auto_failover for PostgreSQL 15 (it brings pg_autoctl), Redis
	# Sentinel, and nginx in front of the API processes.
	command -v pg_autoctl >/dev/null 2>&1 && compgen -G "/usr/lib/postgresql/*/lib/pgautofailover.so" >/dev/null ||
		need+=(postgresql-15-auto-failover)
	command -v redis-sentinel >/dev/null 2>&1 || need+=(redis-sentinel)
	command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need+=(nginx-light)
	;;
bench)
	command -v pgbench >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/pgbench" >/dev/null || need+=(postgresql-contrib)
	command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || need+=(nginx-light)
	command -v curl >/dev/null 2>&1 || need+=(curl)
	;;
esac

check_node() {
	if [[ $purpose == test ]] && ! have_node18; then
		echo "ensure-deps: the SDK tests need Node.js >= 18 (node --version: $(node --version 2>/dev/null || echo none))" >&2
		exit 1
	fi
}

if [[ ${#need[@]} -eq 0 ]]; then
	exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=(sudo)
	else
		echo "ensure-deps: missing Debian packages: ${need[*]}" >&2
		echo "ensure-deps: install them (apt-get install ${need[*]}) or set DATABASE_URL and REDIS_URL" >&2
		exit 1
	fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "ensure-deps: no apt-get here; install ${need[*]} yourself or set DATABASE_URL and REDIS_URL" >&2
	exit 1
fi

# Paylink runs its own private PostgreSQL; don't let the package create and
# start a system-wide cluster when postgresql-common is installed fresh.
if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
	"${sudo[@]}" mkdir -p /etc/postgresql-common/createcluster.d
	echo "create_main_cluster = false" | "${sudo[@]}" tee /etc/postgresql-common/createcluster.d/paylink.conf >/dev/null
fi

echo "ensure-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
check_node
