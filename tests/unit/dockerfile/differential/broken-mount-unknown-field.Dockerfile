FROM alpine:3.20
# podman knows tmpcopyup; BuildKit and hadolint know no such mount field
RUN --mount=type=tmpfs,target=/etc/ssl,tmpcopyup ls /etc/ssl
RUN echo done
