#!/usr/bin/env bash
# make bench, checkout part: payments end to end over HTTP. Starts
# `paylink api` on a fresh database of the server that
# `bin/paylink devenv -dir .data/bench` provides (durable commits: fsync
# and synchronous_commit on), then runs `paylinkbench checkout` against
# it: signed reusable links, 20,000 shoppers each with a card, e-mail and
# address of its own (sent as X-Forwarded-For, loopback being a trusted
# proxy, so risk screening sees legitimate traffic rather than one shopper
# paying thousands of times), a fresh Idempotency-Key per payment, spread
# over BENCH_MERCHANTS merchants and all into one; then the webhooks
# shape: spread again with one webhook endpoint per merchant on a local
# receiver and `paylink worker` running; then the scale-out runs: spread
# through a plain nginx in front of one API process, and in front of two.
# A CPU profile of the API (and of the worker) is saved per
# shape under .data/bench/.
#
# Environment: BENCH_CLIENTS (32), BENCH_SECONDS (30), BENCH_MERCHANTS
# (1000), BENCH_SHAPES (spread,hot,webhooks), BENCH_SCALEOUT (1: run the
# nginx runs), BENCH_DB (bench_checkout) and BENCH_FRESH (1: drop and
# create it; 0: use it as it is, e.g. a seeded one). Extra arguments go to
# paylinkbench checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?run me under bin/paylink devenv}"
clients=${BENCH_CLIENTS:-32}
seconds=${BENCH_SECONDS:-30}
merchants=${BENCH_MERCHANTS:-1000}
shapes=${BENCH_SHAPES:-spread,hot,webhooks}
scaleout=${BENCH_SCALEOUT:-1}
db=${BENCH_DB:-bench_checkout}
port=${PAYLINK_BENCH_PORT:-18480}
out=.data/bench
mkdir -p "$out"
source scripts/bench-lib.sh

go build -o bin/paylinkbench ./cmd/paylinkbench
if [[ ${BENCH_FRESH:-1} == 1 ]]; then
	admin "DROP DATABASE IF EXISTS $db WITH (FORCE)"
	admin "CREATE DATABASE $db"
fi
export DATABASE_URL
DATABASE_URL=$(with_db "$db")
export PAYLINK_BASE_URL=http://localhost:$port
# The webhooks shape's receiver is on loopback.
export PAYLINK_WEBHOOK_ALLOW_PRIVATE=true
export PAYLINK_ENCRYPTION_KEYS=${PAYLINK_ENCRYPTION_KEYS:-"1:$(head -c32 /dev/urandom | base64)"}
# One client IP and a thousand fresh API keys: lift the rate limits. The
# set-up's parallel sign-ups queue for the password hashing slots.
export PAYLINK_RATE_LIMIT_PUBLIC=100000000-S PAYLINK_RATE_LIMIT_API=100000000-S PAYLINK_PASSWORD_WAIT=10m
export PAYLINK_TRUSTED_PROXIES=127.0.0.1/32
bin/paylink migrate >/dev/null
machine
trap stop_started EXIT
state=$out/checkout-merchants-$db.json
rm -f "$state" "$out"/checkout-*.pprof
clk=$(getconf CLK_TCK)

start_api checkout-api "$port" $((port + 1))
api=$api_pid
# CPU time per payment of each process, so figures taken on a busy machine
# still say what one payment costs.
cpu="api=$api,$(pg_redis_cpu)"
echo "== paylinkbench checkout -c $clients -d ${seconds}s -merchants $merchants -shape $shapes (database $db; paylink api: one process, DB pool ${PAYLINK_DB_MAX_CONNS:-auto}; worker: PAYLINK_WEBHOOK_CONCURRENCY ${PAYLINK_WEBHOOK_CONCURRENCY:-100})"
workerdebug=127.0.0.1:$((port + 3))
bin/paylinkbench checkout -url "http://127.0.0.1:$port" -c "$clients" -d "${seconds}s" -merchants "$merchants" \
	-shape "$shapes" -state "$state" \
	-worker "env PAYLINK_DEBUG_ADDR=$workerdebug PAYLINK_METRICS_ADDR=127.0.0.1:$((port + 4)) bin/paylink worker" \
	-worker-pprof "http://$workerdebug" -db "$DATABASE_URL" \
	-pprof "http://127.0.0.1:$((port + 1))" -profile-dir "$out" -cpu "$cpu" -clk-tck "$clk" "$@"

if [[ $scaleout == 1 ]]; then
	# The same spread load through a plain nginx (as deploy/nginx.conf),
	# first in front of the one API process, then of two.
	start_api checkout-api2 $((port + 10))
	api2=$api_pid
	start_nginx $((port + 20)) "$port"
	echo "== scale-out: spread through nginx in front of one API process"
	bin/paylinkbench checkout -url "http://127.0.0.1:$((port + 20))" -c "$clients" -d "${seconds}s" -shape spread \
		-state "$state" -cpu "api=$api,api2=$api2,nginx=$nginx_pid+,$(pg_redis_cpu)" -clk-tck "$clk" | grep -v '^checkout: '
	kill -TERM "$nginx_pid" && wait "$nginx_pid" 2>/dev/null || true
	start_nginx $((port + 20)) "$port" $((port + 10))
	echo "== scale-out: spread through nginx in front of two API processes"
	bin/paylinkbench checkout -url "http://127.0.0.1:$((port + 20))" -c "$clients" -d "${seconds}s" -shape spread \
		-state "$state" -cpu "api=$api,api2=$api2,nginx=$nginx_pid+,$(pg_redis_cpu)" -clk-tck "$clk" | grep -v '^checkout: '
fi
stop_started
rm -f "$state"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
for shape in spread hot webhooks-api webhooks-worker; do
	if [[ -s $out/checkout-$shape.pprof ]]; then
		echo "== CPU profile, $shape (top 20 by own time)"
		go tool pprof -top -nodecount=20 bin/paylink "$out/checkout-$shape.pprof" 2>/dev/null | tail -n +6
	fi
done
