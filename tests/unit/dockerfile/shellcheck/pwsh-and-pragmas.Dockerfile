FROM mcr.microsoft.com/powershell:7.4-ubuntu-22.04
ENV FOO=bar
SHELL ["pwsh", "-Command"]
RUN Write-Host $env:PATH; $x = 1
RUN Write-Host $env:FOO

FROM debian:12
# hadolint ignore=SC2086
RUN echo $HOME_DIR_UNQUOTED
RUN echo $OTHER
# hadolint ignore=DL3003,SC2164
RUN cd /tmp && echo "$PWD"
RUN ["sh", "-c", "echo $UNQUOTED_IN_EXEC"]
