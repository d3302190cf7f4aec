#!/usr/bin/env bash
# Benchmarks: the handler's own work, and the real binary end to end through the
# emulators. Prints every run and the median ns/op of each benchmark (the
# machines are shared and noisy: compare ratios from one run, not absolutes).
set -euo pipefail
cd "$(dirname "$0")/.."
count="${COUNT:-6}"
out="$(mktemp)"
go test -run '^$' -bench 'Handle' -benchmem -count "$count" ./handler | tee -a "$out"
go test -run '^$' -bench 'Invoke' -benchtime 20x -count "$count" ./internal/e2e | tee -a "$out"
echo
echo "medians of $count runs:"
awk '/^Benchmark/ { name=$1; sub(/-[0-9]+$/, "", name); print name, $3 }' "$out" | sort -k1,1 -k2,2n |
  awk '{ n[$1]++; v[$1, n[$1]] = $2 }
       END { for (b in n) { k = n[b]; m = (k % 2) ? v[b, (k + 1) / 2] : (v[b, k / 2] + v[b, k / 2 + 1]) / 2;
             printf "%-22s %14.0f ns/op\n", b, m } }' | sort
rm -f "$out"
