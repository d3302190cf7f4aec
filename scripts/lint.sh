#!/usr/bin/env bash
# golangci-lint with the project's .golangci.yml, at the pinned version (built
# from the module proxy on first use, about a minute; cached after that).
set -euo pipefail
cd "$(dirname "$0")/.."
version="v2.15.0"
exec go run "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@${version}" run ./...
