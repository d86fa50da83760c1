FROM alpine:3.20 AS base copy a
RUN apk add curl
