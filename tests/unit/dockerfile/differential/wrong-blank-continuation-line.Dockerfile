FROM debian:12.5-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u5 \
    
    && rm -rf /var/lib/apt/lists/*
USER 1000
