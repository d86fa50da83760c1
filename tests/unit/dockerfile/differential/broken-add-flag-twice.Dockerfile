FROM alpine:3.20
# hadolint's message names --chmod for a second --link (and --link for a second --chmod)
ADD --link --link=true https://example.com/a.tgz /a.tgz
