#!/usr/bin/env bash
# Starts Azurite's Table service (the version pinned in package.json) in the
# background on 127.0.0.1, for store/tablekv's tests, and waits until it
# answers. Install it first: npm ci --prefix tools/azurite --no-audit --no-fund
#
# Usage: bash tools/azurite/start.sh [DIR]
#
# DIR (default: a new temporary directory) is Azurite's workspace; the script
# writes DIR/azurite.pid and DIR/azurite.log there. On success it prints one
# line on stdout, for eval:
#
#   export KEYTURN_TEST_AZURITE_TABLES='<connection string>'
#
# and everything else on stderr. Stop it with: bash tools/azurite/stop.sh DIR
# Environment: AZURITE_TABLE_PORT (default 10002), AZURITE_WAIT_SECONDS
# (default 30). Telemetry is disabled: CI reaches no host but the registries.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
bin="$here/node_modules/.bin/azurite-table"
port="${AZURITE_TABLE_PORT:-10002}"
wait_seconds="${AZURITE_WAIT_SECONDS:-30}"
dir="${1:-}"

if [ ! -x "$bin" ]; then
	echo "azurite: $bin is missing; run: npm ci --prefix tools/azurite --no-audit --no-fund" >&2
	exit 1
fi
if [ -z "$dir" ]; then
	dir="$(mktemp -d "${TMPDIR:-/tmp}/keyturn-azurite.XXXXXX")"
fi
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

# port_open succeeds when something accepts TCP connections on the port.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

if port_open; then
	echo "azurite: 127.0.0.1:$port is already in use (an Azurite left running?); stop it or set AZURITE_TABLE_PORT" >&2
	exit 1
fi

"$bin" --tableHost 127.0.0.1 --tablePort "$port" --location "$dir" \
	--disableTelemetry --silent --skipApiVersionCheck --loose \
	</dev/null >"$dir/azurite.log" 2>&1 &
pid=$!
echo "$pid" >"$dir/azurite.pid"

deadline=$((SECONDS + wait_seconds))
until port_open; do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "azurite: exited before listening on 127.0.0.1:$port; its log:" >&2
		cat "$dir/azurite.log" >&2
		exit 1
	fi
	if [ "$SECONDS" -ge "$deadline" ]; then
		echo "azurite: not listening on 127.0.0.1:$port after ${wait_seconds}s; stopping it. Its log:" >&2
		kill "$pid" 2>/dev/null || true
		cat "$dir/azurite.log" >&2
		exit 1
	fi
	sleep 0.2
done

echo "azurite: table service on 127.0.0.1:$port (pid $pid, workspace $dir); stop with: bash tools/azurite/stop.sh $dir" >&2
# Azurite's published development account and key (not a secret).
account=devstoreaccount1
key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
echo "export KEYTURN_TEST_AZURITE_TABLES='DefaultEndpointsProtocol=http;AccountName=$account;AccountKey=$key;TableEndpoint=http://127.0.0.1:$port/$account;'"
