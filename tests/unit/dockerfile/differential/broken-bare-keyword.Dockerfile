FROM alpine:3.20
WORKDIR
COPY . /app
