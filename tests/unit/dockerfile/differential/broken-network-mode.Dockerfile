FROM alpine:3.20
RUN --network=none echo offline
# a network mode must be default, host or none
RUN --network=bridge wget -q https://example.com
