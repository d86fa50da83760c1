FROM golang:1.22 AS build
WORKDIR /src
RUN --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=bind go build -o /out/app ./cmd/app
USER 65534
