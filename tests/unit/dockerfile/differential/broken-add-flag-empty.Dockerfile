FROM alpine:3.20
ONBUILD ADD --checksum= https://example.com/a.tgz /a.tgz
