#!/usr/bin/env bash
# Issue 3's figure over HTTP: FHIR read throughput of Hygie as served (`hygie serve`) and of
# the same engine, data and uvicorn settings without the security path
# (bench/fhir_without_security.py), each on a fresh database loaded alike by fhir_load.
#   bench/security_path_http.sh [sqlite|postgresql] [fhir_load options...]
# Writes bench/results/security-path-http-<backend>.json (and the two fhir-*.json runs).
set -euo pipefail

backend="${1:-sqlite}"
shift || true
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
phases=(--skip create --skip transaction --skip search-family)

HYGIE_BENCH_APP=without-security bash bench/run_hygie.sh "$backend" "${phases[@]}" "$@"
HYGIE_BENCH_APP=hygie bash bench/run_hygie.sh "$backend" "${phases[@]}" "$@"
uv run python bench/security_path_compare.py "$backend"
