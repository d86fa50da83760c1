FROM debian:12.5-slim
RUN <<EOF
apt-get update
apt-get install -y --no-install-recommends curl
