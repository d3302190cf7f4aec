#!/usr/bin/env bash
# Builds the function package for Function Compute's go1 runtime: a static
# linux/amd64 binary named "main" (the handler that s.yaml names) at the root of
# OUT_DIR/start-ecs.zip (default dist/). Reproducible: two builds of the same
# tree with the same Go give the same bytes (no paths, build ID, VCS stamp or
# timestamps end up in the zip).
#
# Usage: scripts/build.sh [OUT_DIR]
set -euo pipefail

usage() {
  echo "usage: scripts/build.sh [OUT_DIR]"
  echo "Builds OUT_DIR/start-ecs.zip (default dist/), the package s.yaml deploys."
}
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  -*) usage >&2; exit 2 ;;
esac
if [ "$#" -gt 1 ]; then
  usage >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out_dir="${1:-$root/dist}"
mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"
zip_path="$out_dir/start-ecs.zip"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

cd "$root"
# The flags that ship live in internal/build (-tags validator_novalidatefn,
# static, stripped, no paths or build ID); buildfn cross-compiles for
# linux/amd64 and the zipper below runs on the build machine, whatever it is.
go run ./scripts/buildfn -o "$stage/main"

go run ./scripts/zipdir -o "$zip_path" "$stage"

bin_bytes="$(wc -c <"$stage/main" | tr -d ' ')"
zip_bytes="$(wc -c <"$zip_path" | tr -d ' ')"
echo "$zip_path: $zip_bytes bytes (binary main: $bin_bytes bytes)"
