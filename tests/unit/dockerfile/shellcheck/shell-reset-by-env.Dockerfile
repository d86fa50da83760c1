FROM debian:12
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV MODE=release
RUN [[ "$MODE" == release ]] && echo "${MODE,,}"
RUN echo ${MODE^^}

FROM mcr.microsoft.com/powershell:7.4-ubuntu-22.04
SHELL ["pwsh", "-Command"]
ARG VERSION
RUN Write-Host $env:VERSION
