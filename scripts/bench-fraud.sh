#!/usr/bin/env bash
# make bench, fraud part: `paylinkbench fraud` replays legitimate shoppers
# mixed with card testing, stolen cards and a slow attack through the
# hosted checkout of `paylink api` on a fresh database of the server that
# `bin/paylink devenv -dir .data/bench` provides, and reports what
# screening blocked or sent to review; then it compares checkout
# payments/s against a second API process on the same database with
# PAYLINK_RISK_SCREENING=false.
#
# Every request comes from the loopback, so the APIs trust it as a proxy
# (PAYLINK_TRUSTED_PROXIES=127.0.0.1/32) and the generator sends each
# shopper's address in X-Forwarded-For, as nginx in front of Paylink does.
# The per-IP rate limits are lifted so that screening alone is measured.
#
# Environment: BENCH_CLIENTS (16), BENCH_SECONDS (10: each of the four
# throughput slices), BENCH_DB (bench_fraud). Extra arguments go to
# paylinkbench fraud.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?run me under bin/paylink devenv}"
clients=${BENCH_CLIENTS:-16}
seconds=${BENCH_SECONDS:-10}
db=${BENCH_DB:-bench_fraud}
port=${PAYLINK_BENCH_PORT:-18580}
out=.data/bench
mkdir -p "$out"
source scripts/bench-lib.sh

go build -o bin/paylinkbench ./cmd/paylinkbench
admin "DROP DATABASE IF EXISTS $db WITH (FORCE)"
admin "CREATE DATABASE $db"
export DATABASE_URL
DATABASE_URL=$(with_db "$db")
export PAYLINK_BASE_URL=http://localhost:$port
export PAYLINK_ENCRYPTION_KEYS=${PAYLINK_ENCRYPTION_KEYS:-"1:$(head -c32 /dev/urandom | base64)"}
export PAYLINK_TRUSTED_PROXIES=127.0.0.1/32
export PAYLINK_RATE_LIMIT_PUBLIC=100000000-S PAYLINK_RATE_LIMIT_API=100000000-S PAYLINK_PASSWORD_WAIT=10m
bin/paylink migrate >/dev/null
machine
trap stop_started EXIT
start_api fraud-api "$port"
PAYLINK_RISK_SCREENING=false start_api fraud-api-unscreened $((port + 10))
echo "== paylinkbench fraud -c $clients -d ${seconds}s (database $db)"
bin/paylinkbench fraud -url "http://127.0.0.1:$port" -metrics "http://127.0.0.1:$((port + 2))/metrics" -url-off "http://127.0.0.1:$((port + 10))" -c "$clients" -d "${seconds}s" "$@" &
bench=$!
rm -f "$out/fraud-load.log"
# The machine is shared: sample its load while the benchmark runs.
while kill -0 "$bench" 2>/dev/null; do
	echo "load during: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at $(date -u +%H:%M:%S)" >>"$out/fraud-load.log"
	sleep 5
done
wait "$bench"
stop_started
echo "load during the run (sampled every 5 s):"
cat "$out/fraud-load.log" && rm -f "$out/fraud-load.log"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
