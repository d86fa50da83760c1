FROM golang:1.22 AS build
WORKDIR /src
COPY --from=build ["go.mod"]
