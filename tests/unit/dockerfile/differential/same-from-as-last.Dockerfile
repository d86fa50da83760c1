FROM debian:12.5
RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10

FROM debian:12.5 AS tools
RUN apt-get update && apt-get install -y --no-install-recommends git=1:2.39.2-1

# hadolint takes a stage whose FROM is the same as the last one's for the last
FROM debian:12.5
RUN apt-get update && apt-get install -y --no-install-recommends make=4.3-4.1
