#!/usr/bin/env bash
# Interleaved before/after runs of the checkout benchmark, so that a slow
# spell of a shared machine does not land on one binary: each round runs
# every binary once, the order rotated every round, and each run copies
# its binary to bin/paylink and runs ./scripts/bench-checkout.sh on a
# fresh database.
#
#   bin/paylink devenv -dir .data/bench -- ./scripts/bench-ab.sh OUT SHAPES LABEL:BINARY[:VAR=VALUE] ...
#
# e.g. ./scripts/bench-ab.sh .data/bench/ab spread,hot old:/tmp/paylink-old new:/tmp/paylink-new \
#   new-unscreened:/tmp/paylink-new:PAYLINK_RISK_SCREENING=false
# Each run's log goes to OUT/rROUND-LABEL.log and its figures to
# OUT/summary. Environment: BENCH_ROUNDS (3), BENCH_SECONDS (15). bin/paylink
# is left as the last binary run: `make build` puts back the source's.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?run me under bin/paylink devenv}"
out=$1 shapes=$2
shift 2
mkdir -p "$out"
specs=("$@")
n=${#specs[@]}
for ((r = 0; r < ${BENCH_ROUNDS:-3}; r++)); do
	for ((k = 0; k < n; k++)); do
		IFS=: read -r label binary envs <<<"${specs[$(((r + k) % n))]}"
		# A rename, so a bin/paylink still running (devenv) keeps its file.
		cp "$binary" bin/paylink.new && mv bin/paylink.new bin/paylink
		log=$out/r$r-$label.log
		echo "== round $r $label $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out/summary"
		# shellcheck disable=SC2086 # envs is VAR=VALUE words, or nothing
		env $envs BENCH_SECONDS="${BENCH_SECONDS:-15}" BENCH_SCALEOUT=0 BENCH_SHAPES="$shapes" \
			./scripts/bench-checkout.sh >"$log" 2>&1
		grep -E '^checkout (spread|hot|webhooks)|CPU per payment|arrived during' "$log" | tee -a "$out/summary"
	done
done
