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
go vet ./...
scripts/lint.sh
go test -race -count=1 -timeout 20m ./...
