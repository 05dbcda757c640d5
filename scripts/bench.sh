#!/usr/bin/env bash
# make bench: PostgreSQL's own pgbench (built-in tpcb-like, prepared
# statements) and Paylink's ledger benchmark, on the same PostgreSQL at the
# same concurrency, so the ledger's figures can be read against what this
# server can commit. Run it under `bin/paylink devenv -dir .data/bench`
# (durable commits: fsync and synchronous_commit on), which sets
# DATABASE_URL to an admin URL of a private server.
#
# Environment: BENCH_CLIENTS (32), BENCH_SECONDS (30), BENCH_PGBENCH_SCALE
# (pgbench scale factor, default = clients: one branch row per client as
# pgbench's documentation advises, so pgbench is not throttled by its own
# hot row).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?run me under bin/paylink devenv}"
clients=${BENCH_CLIENTS:-32}
seconds=${BENCH_SECONDS:-30}
scale=${BENCH_PGBENCH_SCALE:-$clients}

pgbin=$(dirname "$(command -v pgbench || ls -d /usr/lib/postgresql/*/bin/pgbench | sort -V | tail -1)")
admin() { PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" "$DATABASE_URL" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
# with_db NAME: DATABASE_URL pointing at database NAME instead.
with_db() { echo "$DATABASE_URL" | sed -E "s#^(postgres(ql)?://[^/]+)/[^?]*#\1/$1#"; }

go build -o bin/paylinkbench ./cmd/paylinkbench

echo "== machine"
echo "date:       $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "cpu:        $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "memory:     $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
echo "load:       $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
echo "postgres:   $(admin 'SHOW server_version'), fsync=$(admin 'SHOW fsync'), synchronous_commit=$(admin 'SHOW synchronous_commit')"

for db in bench_pgbench bench_ledger; do
	admin "DROP DATABASE IF EXISTS $db WITH (FORCE)"
	admin "CREATE DATABASE $db"
done

echo "== pgbench -M prepared, tpcb-like, scale $scale, $clients clients, ${seconds}s"
"$pgbin/pgbench" -i -q -s "$scale" "$(with_db bench_pgbench)" >/dev/null 2>&1
pgout=$("$pgbin/pgbench" -M prepared -c "$clients" -j 4 -T "$seconds" "$(with_db bench_pgbench)" 2>&1)
echo "$pgout" | grep -E '^(latency|tps|number of (transactions|failed))'
pgtps=$(echo "$pgout" | sed -nE 's/^tps = ([0-9.]+).*/\1/p' | head -1)

DATABASE_URL=$(with_db bench_ledger) bin/paylink migrate
declare -A tps
for shape in spread hot card; do
	echo "== paylinkbench ledger -shape $shape -c $clients -d ${seconds}s"
	line=$(bin/paylinkbench ledger -db "$(with_db bench_ledger)" -shape "$shape" -c "$clients" -d "${seconds}s")
	echo "$line"
	tps[$shape]=$(echo "$line" | sed -nE 's/.* tps=([0-9.]+) .*/\1/p')
done

echo "== summary"
echo "load now:   $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
awk -v pg="$pgtps" -v spread="${tps[spread]}" -v hot="${tps[hot]}" -v card="${tps[card]}" 'BEGIN {
	printf "pgbench tpcb-like:  %8.1f tps\n", pg
	printf "ledger spread:      %8.1f tps = %3.0f%% of pgbench (target >= 60%%)\n", spread, 100 * spread / pg
	printf "ledger hot:         %8.1f tps = %3.0f%% of spread  (target >= 50%%)\n", hot, 100 * hot / spread
	printf "ledger card (both sides hot): %8.1f tps = %3.0f%% of spread\n", card, 100 * card / spread
}'

for db in bench_pgbench bench_ledger; do
	admin "DROP DATABASE IF EXISTS $db WITH (FORCE)"
done
