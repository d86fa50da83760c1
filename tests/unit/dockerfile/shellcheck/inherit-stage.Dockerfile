FROM alpine:3.19 AS base
SHELL ["/bin/ash", "-eo", "pipefail", "-c"]
ARG BUILD_ID
RUN echo "$BUILD_ID"

FROM base AS child
RUN echo "$BUILD_ID" "$not_there"
RUN echo ${BUILD_ID:0:3}

FROM alpine:3.19
RUN echo "$BUILD_ID"
RUN echo ${BUILD_ID:0:3}
