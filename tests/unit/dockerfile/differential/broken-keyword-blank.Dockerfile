FROM alpine:3.20
COPY 
RUN apk add curl
