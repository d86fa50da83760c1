FROM alpine:3.20 AS build
# flags hadolint's parser takes: --link alone, --exclude twice
COPY --chown=1:1 --chmod=755 --link --exclude=*.md --exclude=*.txt . /src
# a flag COPY does not know (BuildKit refuses it too): hadolint stops at the paths
COPY --chown=1:1 \
    --user=me foo /tmp/
RUN echo never linted
