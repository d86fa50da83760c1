ARG VERSION=1.27.1.2-0
FROM "openresty/openresty:${VERSION}-centos"  # add -aarch64 on arm
FROM alpine:3.20 AS runtime # the image that ships
COPY --from=0 /usr/local/openresty /usr/local/openresty
