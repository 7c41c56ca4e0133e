# syntax=docker/dockerfile:1
# Build: a cached module download, then a static, trimmed binary.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/keyturn ./cmd/bot

# Run: distroless static as a non-root user; CA certificates included.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/keyturn /keyturn
USER nonroot:nonroot
ENV KEYTURN_STATE_DIR=/var/lib/keyturn
EXPOSE 3978
ENTRYPOINT ["/keyturn"]
CMD ["serve"]
