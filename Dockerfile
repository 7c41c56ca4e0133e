# syntax=docker/dockerfile:1
# Build: a cached module download, then the release binary, built by the same
# script CI's image check runs (tools/image/build.sh: static, trimmed,
# stripped), so the two cannot drift.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    sh tools/image/build.sh /out/keyturn && mkdir -p /out/state

# Run: distroless static (CA certificates, no shell, no package manager) as
# the non-root user 65532. With KEYTURN_STORE=azure-tables (Azure Container
# Apps, see infra/) nothing is written to the state directory and the root
# file system may be read-only; the empty, nonroot-owned directory is only
# for the single-replica bbolt store (mount a volume there).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/keyturn /keyturn
COPY --from=build --chown=65532:65532 /out/state /var/lib/keyturn
USER 65532:65532
ENV KEYTURN_STATE_DIR=/var/lib/keyturn
EXPOSE 3978
ENTRYPOINT ["/keyturn"]
CMD ["serve"]
