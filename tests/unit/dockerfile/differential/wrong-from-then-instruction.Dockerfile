FROM alpine
# hadolint reads a second instruction after the image; BuildKit refuses the FROM
FROM alpine:3.20 run echo hi
