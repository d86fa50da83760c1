FROM debian:12.5
EXPOSE 80
EXPOSE 81/udp
ARG proto=tcp
# hadolint knows tcp and udp only, and no variable there
EXPOSE 82/$proto
