FROM debian:12.5-slim
ARG UID=1000
# hadolint reads `$UID` as `${UID}` (six characters: a "high" UID), and `$(...)` so too
RUN useradd -u $UID -m dev
RUN useradd -u $U -m dev2
RUN useradd -u $(id -u) -m dev3
RUN useradd -u "`id -u`" -m dev4
