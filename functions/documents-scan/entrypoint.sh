#!/bin/sh
# Starts clamd beside the function (loading the database takes seconds with the official
# signatures: the scan function uses provisioned concurrency in season), then hands over
# to the Rust runtime client. The function treats a clamd it cannot reach as an error, so a
# message that arrives before clamd is ready is retried, never passed as clean.
set -eu
clamd -c /etc/clamav/clamd.conf &
i=0
until printf 'zPING\0' | timeout 1 nc -q1 127.0.0.1 3310 2>/dev/null | grep -q PONG; do
  i=$((i + 1)); [ "$i" -gt 300 ] && break
  sleep 0.1
done
exec /var/runtime/bootstrap
