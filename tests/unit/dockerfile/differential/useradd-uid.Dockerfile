FROM debian:12.5-slim
ARG USER_UID=1000
RUN useradd -s /bin/bash --uid $USER_UID -m dev
RUN useradd --uid 1000000 -m big
RUN useradd -u 1000000 -m big2
RUN useradd -mu 2000000 big3
RUN useradd -u $USER_UID -m dev2
RUN useradd -l -u 1000000 -m fine
RUN useradd --no-log-init -u 1000000 -m fine2
