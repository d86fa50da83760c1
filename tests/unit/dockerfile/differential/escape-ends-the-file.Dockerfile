FROM alpine:3.20
ENV A=1 B="two words"
ENV LEGACY some value
LABEL "quoted key"=1 other=2
RUN apk add --no-cache curl=8.5.0-r0 \