#!/usr/bin/env bash
# Run the FHIR load benchmark against a fresh Hygie: bench/run_hygie.sh [sqlite|postgresql]
# Extra arguments go to bench/fhir_load.py (e.g. --observations 10000 --duration 5).
# Writes bench/results/fhir-hygie-<backend>.json; the server's log is kept beside it only
# when the server logged errors.
# HYGIE_BENCH_APP=without-security serves instead the same FHIR engine and data without the
# security path (bench/fhir_without_security.py, the "without" of bench/security_path_http.sh),
# on the same server settings, and writes fhir-hygie-without-security-<backend>.json.
set -euo pipefail

backend="${1:-sqlite}"
shift || true
port="${HYGIE_BENCH_PORT:-8010}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

case "$backend" in
  sqlite) unset HYGIE_DATABASE_URL ;;
  postgresql)
    db=hygie_bench
    dropdb -h 127.0.0.1 -U postgres --if-exists --force "$db"
    createdb -h 127.0.0.1 -U postgres "$db"
    export HYGIE_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/$db"
    ;;
  *) echo "usage: $0 [sqlite|postgresql] [fhir_load options...]" >&2; exit 2 ;;
esac

app="${HYGIE_BENCH_APP:-hygie}"
case "$app" in
  hygie) label="hygie-$backend" ;;
  without-security) label="hygie-without-security-$backend" ;;
  *) echo "HYGIE_BENCH_APP must be hygie or without-security" >&2; exit 2 ;;
esac

if curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
  echo "port $port already answers: stop that server or set HYGIE_BENCH_PORT" >&2
  exit 2
fi

data_dir="$(mktemp -d -t hygie-bench-XXXXXX)"
mkdir -p bench/results
log="$data_dir/server.log"
kept_log="bench/results/fhir-$label.server.log"
server=""
server_pid=""
cleanup() {
  local pid
  for pid in $server_pid $server; do
    kill "$pid" 2>/dev/null || true
  done
  # A request still running in the server's thread pool holds uvicorn's shutdown: 10 s at most.
  for _ in $(seq 1 20); do
    kill -0 "$server" 2>/dev/null || break
    sleep 0.5
  done
  for pid in $server_pid $server; do
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ -n "$server" ]; then
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$data_dir"
}
trap cleanup EXIT

export HYGIE_DATA_DIR="$data_dir"
# Demo mode generates the keys; tokens outlive the whole run (the load is a backend service).
export HYGIE_MODE=demo HYGIE_ACCESS_TOKEN_SECONDS=7200
uv run hygie migrate
if [ "$app" = hygie ]; then
  uv run hygie serve --port "$port" >"$log" 2>&1 &
else
  # The uvicorn settings of `hygie serve`.
  HYGIE_BASE_URL="http://127.0.0.1:$port" uv run uvicorn fhir_without_security:create_app \
    --factory --app-dir bench --host 127.0.0.1 --port "$port" --no-access-log \
    --loop uvloop --http httptools >"$log" 2>&1 &
fi
server=$!

for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  if ! kill -0 "$server" 2>/dev/null; then
    echo "Hygie did not start; its log ($log):" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  sleep 0.5
done
curl -fs "http://127.0.0.1:$port/health" >/dev/null || { echo "Hygie never became healthy" >&2; exit 1; }

# `uv run` keeps a parent process: measure the Python server under it, not uv itself.
server_pid="$(pgrep -P "$server" | head -n 1 || true)"
credentials=()
if [ "$app" = hygie ]; then
  token="$(uv run python bench/backend_token.py "http://127.0.0.1:$port")"
  credentials=(--header "Authorization: Bearer $token")
fi
status=0
uv run python bench/fhir_load.py \
  --base-url "http://127.0.0.1:$port/fhir" \
  "${credentials[@]}" \
  --label "$label" \
  --server-pid "${server_pid:-$server}" \
  "$@" || status=$?
if grep -q -E "Traceback|ERROR" "$log"; then
  cp "$log" "$kept_log"
  echo "the server logged errors (whole log in $kept_log):" >&2
  grep -m 5 -E "Traceback|ERROR" "$log" >&2 || true
fi
exit "$status"
