#!/usr/bin/env bash
# Stops an Azurite started by start.sh with the same DIR, waiting up to 10 s
# for it to exit (then kills it). Does nothing when DIR has no azurite.pid, so
# it is safe in an exit trap. It leaves DIR in place.
#
# Usage: bash tools/azurite/stop.sh DIR
set -euo pipefail

dir="${1:?usage: stop.sh DIR}"
pidfile="$dir/azurite.pid"
[ -f "$pidfile" ] || exit 0
pid="$(cat "$pidfile")"
rm -f "$pidfile"
kill "$pid" 2>/dev/null || exit 0
for _ in $(seq 50); do
	kill -0 "$pid" 2>/dev/null || exit 0
	sleep 0.2
done
echo "azurite: pid $pid did not exit after SIGTERM; killing it" >&2
kill -KILL "$pid" 2>/dev/null || true
