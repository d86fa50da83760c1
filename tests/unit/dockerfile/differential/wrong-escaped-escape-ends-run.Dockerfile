FROM alpine:3.20
# BuildKit ends the RUN at an escaped escape; hadolint reads on and fails
RUN echo a\\
RUN echo b
