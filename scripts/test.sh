#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, vet, golangci-lint (the pinned
# version, built on first use), and every test with the race detector. Needs
# only Go; modules are fetched on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
# A line before each long step, so that a first run (modules fetched, the
# linter and the race-instrumented packages built) does not look stuck.
echo "== go vet ./..." >&2
go vet ./...
echo "== golangci-lint (scripts/lint.sh; the first run builds it, about a minute)" >&2
scripts/lint.sh
echo "== go test -race ./... (the first run builds every package with the race detector: minutes)" >&2
go test -race -count=1 -timeout 20m ./...
