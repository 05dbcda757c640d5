#!/usr/bin/env bash
# make bench, checkout part: payments end to end over HTTP. Starts
# `paylink api` on a fresh database of the server that
# `bin/paylink devenv -dir .data/bench` provides (durable commits: fsync
# and synchronous_commit on), then runs `paylinkbench checkout` against
# it: signed reusable links, card 4242, a fresh Idempotency-Key per
# payment, spread over BENCH_MERCHANTS merchants and all into one; then
# the webhooks shape: spread again with one webhook endpoint per merchant
# on a local receiver and `paylink worker` running. A CPU profile of the
# API (and of the worker) is saved per shape under .data/bench/.
#
# Environment: BENCH_CLIENTS (32), BENCH_SECONDS (30), BENCH_MERCHANTS
# (1000), BENCH_SHAPES (spread,hot,webhooks). Extra arguments go to
# paylinkbench checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?run me under bin/paylink devenv}"
clients=${BENCH_CLIENTS:-32}
seconds=${BENCH_SECONDS:-30}
merchants=${BENCH_MERCHANTS:-1000}
shapes=${BENCH_SHAPES:-spread,hot,webhooks}
port=${PAYLINK_BENCH_PORT:-18480}
out=.data/bench

pgbin=$(dirname "$(command -v psql || ls -d /usr/lib/postgresql/*/bin/psql | sort -V | tail -1)")
admin() { PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" "$DATABASE_URL" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
with_db() { echo "$DATABASE_URL" | sed -E "s#^(postgres(ql)?://[^/]+)/[^?]*#\1/$1#"; }

go build -o bin/paylinkbench ./cmd/paylinkbench
admin "DROP DATABASE IF EXISTS bench_checkout WITH (FORCE)"
admin "CREATE DATABASE bench_checkout"
export DATABASE_URL
DATABASE_URL=$(with_db bench_checkout)
export PAYLINK_ADDR=127.0.0.1:$port PAYLINK_BASE_URL=http://localhost:$port
export PAYLINK_DEBUG_ADDR=127.0.0.1:$((port + 1))
# The webhooks shape's receiver is on loopback.
export PAYLINK_WEBHOOK_ALLOW_PRIVATE=true
export PAYLINK_ENCRYPTION_KEYS=${PAYLINK_ENCRYPTION_KEYS:-"1:$(head -c32 /dev/urandom | base64)"}
# One client IP and a thousand fresh API keys: lift the rate limits.
export PAYLINK_RATE_LIMIT_PUBLIC=100000000-S PAYLINK_RATE_LIMIT_API=100000000-S
mkdir -p "$out"
bin/paylink migrate >/dev/null

echo "== machine"
echo "date:       $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "cpu:        $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "load:       $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
echo "postgres:   $(admin 'SHOW server_version'), fsync=$(admin 'SHOW fsync'), synchronous_commit=$(admin 'SHOW synchronous_commit')"

bin/paylink api 2>"$out/checkout-api.log" &
api=$!
trap 'kill -TERM $api 2>/dev/null; wait $api 2>/dev/null || true' EXIT
ready=
for _ in $(seq 1 100); do
	curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && { ready=1; break; }
	kill -0 $api 2>/dev/null || break
	sleep 0.1
done
if [[ -z $ready ]]; then
	echo "paylink api did not start:" >&2
	cat "$out/checkout-api.log" >&2
	exit 1
fi

# CPU time per payment of each process, so figures taken on a busy machine
# still say what one payment costs.
pgdata=$(ls -d .data/bench/postgres 2>/dev/null)
postmaster=$(head -1 "$pgdata/postmaster.pid" 2>/dev/null || true)
redisport=$(echo "$REDIS_URL" | sed -E 's#^redis://([^/]*@)?[^:/]+:([0-9]+).*#\2#')
redispid=$(ss -ltnpH "sport = :$redisport" 2>/dev/null | sed -nE 's/.*pid=([0-9]+).*/\1/p' | head -1)
cpu="api=$api"
[[ -n $postmaster ]] && cpu="$cpu,postgres=$postmaster+"
[[ -n $redispid ]] && cpu="$cpu,redis=$redispid"

echo "== paylinkbench checkout -c $clients -d ${seconds}s -merchants $merchants -shape $shapes (paylink api: one process, DB pool ${PAYLINK_DB_MAX_CONNS:-auto}; worker: ${PAYLINK_WORKER_CONCURRENCY:-default} tasks at once)"
workerdebug=127.0.0.1:$((port + 3))
bin/paylinkbench checkout -url "http://127.0.0.1:$port" -c "$clients" -d "${seconds}s" -merchants "$merchants" \
	-shape "$shapes" -state "$out/checkout-merchants.json" \
	-worker "env PAYLINK_DEBUG_ADDR=$workerdebug bin/paylink worker" \
	-worker-pprof "http://$workerdebug" -db "$DATABASE_URL" \
	-pprof "http://$PAYLINK_DEBUG_ADDR" -profile-dir "$out" -cpu "$cpu" -clk-tck "$(getconf CLK_TCK)" "$@"
rm -f "$out/checkout-merchants.json"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
for shape in spread hot webhooks-api webhooks-worker; do
	if [[ -s $out/checkout-$shape.pprof ]]; then
		echo "== CPU profile, $shape (top 20 by own time)"
		go tool pprof -top -nodecount=20 bin/paylink "$out/checkout-$shape.pprof" 2>/dev/null | tail -n +6
	fi
done
