#!/usr/bin/env bash
# Start the local services the tests talk to, if they are not running already:
# PostgreSQL (127.0.0.1:5432) and Mosquitto (127.0.0.1:1883).
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 5432; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
fi
if ! port_open 1883; then
  echo "starting Mosquitto"
  mosquitto -d -c /etc/mosquitto/mosquitto.conf
fi
for _ in $(seq 1 30); do
  port_open 5432 && port_open 1883 && exit 0
  sleep 1
done
echo "PostgreSQL or Mosquitto did not come up" >&2
exit 1
