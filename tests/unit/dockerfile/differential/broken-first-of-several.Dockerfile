FROM alpine:3.20
RUN apk add curl
RUNN echo one
FOO bar
USER root
