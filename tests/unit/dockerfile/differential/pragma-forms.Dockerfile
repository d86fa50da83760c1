FROM debian:12.5-slim AS build
# hadolint ignore=DL3008, DL3015
RUN apt-get install -y curl
#hadolint ignore=DL3008
RUN apt-get install -y --no-install-recommends wget && rm -rf /var/lib/apt/lists/*
# hadolint ignore=DL3008

RUN apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*
# hadolint ignore=DL3008 # pinned by the base image
RUN apt-get install -y --no-install-recommends vim && rm -rf /var/lib/apt/lists/*
# HADOLINT ignore=DL3008
RUN apt-get install -y --no-install-recommends jq && rm -rf /var/lib/apt/lists/*
# hadolint ignore=DL3008
# a second comment between the pragma and its instruction
RUN apt-get install -y --no-install-recommends zip && rm -rf /var/lib/apt/lists/*
# hadolint ignore=DL3008 pinned elsewhere
RUN apt-get install -y --no-install-recommends unzip && rm -rf /var/lib/apt/lists/*
# hadolint ignore=SC2086,DL3008
RUN apt-get install -y --no-install-recommends $PKGS && rm -rf /var/lib/apt/lists/*

# hadolint stage ignore=DL3008,DL3006
FROM ubuntu
RUN apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
# hadolint stage ignore=DL3059
RUN echo one
RUN echo two
RUN echo three

FROM ubuntu:24.04
RUN apt-get install -y --no-install-recommends gcc && rm -rf /var/lib/apt/lists/*
RUN echo four
