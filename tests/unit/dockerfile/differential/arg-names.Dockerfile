FROM debian:12.5-slim
# hadolint reads one name per ARG: the first, up to "="
ARG BUILD_DEPS="build-essential curl"
ARG FLAGS="--jobs=8 --without development test"
ARG first=1 second=2
ARG API_PASSWORD
ARG mode=fast API_TOKEN=none
RUN apt-get install -y --no-install-recommends $BUILD_DEPS && echo "$FLAGS"
RUN echo "$first" && echo "$second"
ARG USERNAME=app
USER $USERNAME
