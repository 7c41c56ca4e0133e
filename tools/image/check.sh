#!/usr/bin/env bash
# CI's check of the container image, without a container engine: builds the
# release binary with the same script the Dockerfile runs, then runs
# tools/imagecheck on it (static binary; `keyturn serve` as in Azure
# Container Apps, as a non-root user with a read-only state directory;
# /healthz and /readyz; size and time to ready).
#
# Usage: bash tools/image/check.sh   (from anywhere; needs Azurite's table
# service in KEYTURN_TEST_AZURITE_TABLES, as .ci/run starts it)
set -euo pipefail
cd "$(dirname "$0")/../.."

out="$(mktemp -d "${TMPDIR:-/tmp}/keyturn-image.XXXXXX")"
trap 'rm -rf "$out"' EXIT

sh tools/image/build.sh "$out/keyturn"

# The production binary must not link test code (issue 9; also
# internal/layering.TestProductLinksNoTestCode).
if go list -deps ./cmd/bot | grep -qx testing; then
	echo "image: ./cmd/bot links the testing package: test code would ship in the image" >&2
	exit 1
fi
# Nor the crash points of the crash matrix (build tag keyturn_crash).
if grep -q KEYTURN_CRASH_AT "$out/keyturn"; then
	echo "image: the binary contains the crash matrix's crash points" >&2
	exit 1
fi

go run ./tools/imagecheck -bin "$out/keyturn" -policy docs/keyturn.example.yaml
