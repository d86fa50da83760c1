FROM alpine:3.20
ADD --parents=true a/b /dst/
