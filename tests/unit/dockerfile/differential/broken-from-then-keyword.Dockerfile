FROM debian:{{ env.variant }}-slim
RUN apt-get update
