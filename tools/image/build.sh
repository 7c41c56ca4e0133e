#!/bin/sh
# The one command line that builds Keyturn's release binary. The Dockerfile
# runs this script, and so does CI's image check (tools/image/check.sh), so
# what CI checks is what the image ships: a static (CGO_ENABLED=0), trimmed
# (-trimpath), stripped (-s -w) binary of ./cmd/bot.
#
# Usage: sh tools/image/build.sh OUT   (run from the repository root)
set -eu
out="${1:?usage: sh tools/image/build.sh OUT}"
CGO_ENABLED=0 exec go build -trimpath -ldflags="-s -w" -o "$out" ./cmd/bot
