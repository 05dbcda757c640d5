#!/usr/bin/env bash
# BENCH_SCALE=large make bench: big histories. Seeds one database with
# `paylinkbench seed` (10,000 merchants, 10 million payments with their
# ledger postings, events, deliveries and receipts, a million wallet
# transactions), then measures, against the checkout on an empty database
# in the same run: checkout at that size, the payment list, the balance and
# the wallet account, the filtered list, the CSV export and the
# dashboard's home, payments page, filter and CSV as the biggest merchant
# (paylinkbench reads), the bytes on disk per payment
# and what 10 million payments a day would cost in disk a year, and how
# long `paylink ledger verify` takes over it all. Run it under
# `bin/paylink devenv -dir .data/bench`.
#
# Environment: BENCH_PAYMENTS (10000000), BENCH_MERCHANTS_SEEDED (10000),
# BENCH_WALLET_TX (1000000), BENCH_USERS (100000), BENCH_SECONDS (30, per
# checkout shape), BENCH_READ_SECONDS (10, per read), BENCH_KEEP (0: drop
# the seeded database at the end; 1: keep it, and reuse it next time).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?run me under bin/paylink devenv}"
payments=${BENCH_PAYMENTS:-10000000}
seeded_merchants=${BENCH_MERCHANTS_SEEDED:-10000}
wallet_tx=${BENCH_WALLET_TX:-1000000}
users=${BENCH_USERS:-100000}
read_seconds=${BENCH_READ_SECONDS:-10}
keep=${BENCH_KEEP:-0}
port=${PAYLINK_BENCH_PORT:-18480}
out=.data/bench
db=bench_large
mkdir -p "$out"
source scripts/bench-lib.sh
go build -o bin/paylinkbench ./cmd/paylinkbench
started_at=$(date +%s)
machine

# Keys shared by the seed and every API process of the run.
export PAYLINK_ENCRYPTION_KEYS=${PAYLINK_ENCRYPTION_KEYS:-"1:$(head -c32 /dev/urandom | base64)"}
keyfile=$out/large-keys
seedstate=$out/large-state.json
if [[ $keep == 1 && -s $keyfile && -s $seedstate && $(admin "SELECT count(*) FROM pg_database WHERE datname = '$db'") == 1 ]]; then
	PAYLINK_ENCRYPTION_KEYS=$(cat "$keyfile")
	echo "== reusing the seeded database $db (BENCH_KEEP=1)"
	reuse=1
else
	reuse=0
fi

echo "== checkout on an empty database (the reference)"
BENCH_SHAPES=spread,hot BENCH_SCALEOUT=0 ./scripts/bench-checkout.sh | tee "$out/large-empty.txt" | grep -E '^(checkout|  CPU)'

if [[ $reuse == 0 ]]; then
	admin "DROP DATABASE IF EXISTS $db WITH (FORCE)"
	admin "CREATE DATABASE $db"
	DATABASE_URL=$(with_db $db) bin/paylink migrate >/dev/null
	# Fewer checkpoints while loading; put back when the seed is done.
	admin "ALTER SYSTEM SET max_wal_size = '4GB'" && admin "SELECT pg_reload_conf()" >/dev/null
	trap 'admin "ALTER SYSTEM RESET max_wal_size" && admin "SELECT pg_reload_conf()" >/dev/null' EXIT
	echo "== paylinkbench seed: $seeded_merchants merchants, $payments payments, $wallet_tx wallet transactions, $users users"
	t0=$(date +%s)
	bin/paylinkbench seed -db "$(with_db $db)" -merchants "$seeded_merchants" -payments "$payments" \
		-wallet-tx "$wallet_tx" -users "$users" -state "$seedstate"
	t1=$(date +%s)
	admin "ALTER SYSTEM RESET max_wal_size" && admin "SELECT pg_reload_conf()" >/dev/null
	trap - EXIT
	echo "== VACUUM (ANALYZE): visibility map, hint bits and statistics for the freshly loaded tables"
	sql $db "VACUUM (ANALYZE)"
	t2=$(date +%s)
	echo "seed: $((t1 - t0)) s, vacuum and analyze: $((t2 - t1)) s"
	echo "$PAYLINK_ENCRYPTION_KEYS" >"$keyfile"
	chmod 600 "$keyfile"
fi

echo "== bytes on disk per payment (tables with their indexes and TOAST)"
sql $db "
WITH n AS (SELECT (SELECT count(*) FROM payments) AS payments,
                  (SELECT count(*) FROM ledger_transactions WHERE kind = 'payment') AS postings,
                  (SELECT count(*) FROM ledger_transactions) AS all_postings),
t AS (SELECT relname AS name, pg_total_relation_size(relid) AS bytes FROM pg_stat_user_tables)
SELECT format('%-22s %8s MB %7s bytes/payment%s', name, round(bytes / 1e6), round(bytes::numeric * share / n.payments),
              CASE WHEN share < 1 THEN format(' (its payments'' share, %s%%)', round(100 * share)) ELSE '' END)
FROM n, (SELECT name, bytes, CASE WHEN name IN ('ledger_transactions', 'ledger_entries')
                                  THEN (SELECT postings::numeric / all_postings FROM n) ELSE 1 END AS share
         FROM t WHERE name IN ('payments', 'ledger_transactions', 'ledger_entries', 'events', 'webhook_deliveries',
                               'webhook_attempts', 'emails', 'idempotency_keys', 'pending_captures')) x
ORDER BY bytes DESC" | sed 's/^/  /'
# The yearly cost of 10 million payments a day: what is kept forever
# grows by its bytes per payment every day; what retention removes holds
# its window's worth (deliveries and receipts 30 days, keys 48 hours),
# measured per row here, one of each per payment.
sql $db "
WITH n AS (SELECT count(*)::numeric AS payments,
                  (SELECT count(*) FROM ledger_transactions WHERE kind = 'payment')::numeric / (SELECT count(*) FROM ledger_transactions) AS share
           FROM payments),
forever AS (SELECT (pg_total_relation_size('payments') + pg_total_relation_size('events')
                    + (pg_total_relation_size('ledger_transactions') + pg_total_relation_size('ledger_entries')) * n.share) / n.payments AS b
            FROM n),
per_row AS (SELECT (pg_total_relation_size('webhook_deliveries') + pg_total_relation_size('webhook_attempts'))::numeric
                       / greatest((SELECT count(*) FROM webhook_deliveries), 1) AS delivery,
                   pg_total_relation_size('emails')::numeric / greatest((SELECT count(*) FROM emails), 1) AS email,
                   pg_total_relation_size('idempotency_keys')::numeric / greatest((SELECT count(*) FROM idempotency_keys), 1) AS idem)
SELECT line FROM forever f, per_row p, LATERAL (VALUES
  (format('kept forever: %s bytes per payment (payments, events, ledger), against the design''s 256 bytes per link: %s x', round(f.b), round(f.b / 256, 1))),
  (format('per row kept by retention: delivery with its attempt %s bytes, receipt %s bytes, Idempotency-Key record %s bytes', round(p.delivery), round(p.email), round(p.idem))),
  (format('10 million payments a day: %s TB a year kept forever, plus %s GB held by retention (30 days of deliveries and receipts, 48 hours of keys)',
          round(f.b * 1e7 * 365 / 1e12, 1), round((30 * 1e7 * (p.delivery + p.email) + 2 * 1e7 * p.idem) / 1e9)))) AS v(line)" | sed 's/^/  /'
echo "database size: $(sql $db "SELECT pg_size_pretty(pg_database_size('$db'))")"

echo "== paylink ledger verify over the whole ledger"
t0=$(date +%s%N)
DATABASE_URL=$(with_db $db) bin/paylink ledger verify | tail -1
echo "verify took $(( ($(date +%s%N) - t0) / 1000000 )) ms"

echo "== checkout on the seeded database"
BENCH_DB=$db BENCH_FRESH=0 BENCH_SHAPES=spread,hot BENCH_SCALEOUT=0 ./scripts/bench-checkout.sh | tee "$out/large-seeded.txt" | grep -E '^(checkout|  CPU)'

echo "== paylinkbench reads on the seeded database (${read_seconds}s each)"
export DATABASE_URL PAYLINK_BASE_URL=http://localhost:$port PAYLINK_RATE_LIMIT_API=100000000-S PAYLINK_RATE_LIMIT_PUBLIC=100000000-S
DATABASE_URL=$(with_db $db)
trap stop_started EXIT
start_api large-api "$port"
bin/paylinkbench reads -url "http://127.0.0.1:$port" -origin "$PAYLINK_BASE_URL" -state "$seedstate" -d "${read_seconds}s"
stop_started

echo "== summary"
awk '
FNR == 1 { file++ }
/^checkout (spread|hot) / {
	shape = $2
	for (i = 1; i <= NF; i++) {
		if ($i == "payments/s,") rate[file, shape] = $(i - 1)
		if ($i == "p99") { p99[file, shape] = $(i + 1); sub(/,$/, "", p99[file, shape]) }
	}
}
END {
	for (s = 0; s < 2; s++) {
		shape = s == 0 ? "spread" : "hot"
		printf "checkout %-6s empty: %5d/s, p99 %s; seeded: %5d/s, p99 %s; throughput at %.0f%% of empty (target >= 85%%)\n",
			shape, rate[1, shape], p99[1, shape], rate[2, shape], p99[2, shape], 100 * rate[2, shape] / rate[1, shape]
	}
}' "$out/large-empty.txt" "$out/large-seeded.txt"
echo "whole run: $(( $(date +%s) - started_at )) s"
if [[ $keep != 1 ]]; then
	admin "DROP DATABASE IF EXISTS $db WITH (FORCE)"
	rm -f "$seedstate" "$keyfile"
fi
