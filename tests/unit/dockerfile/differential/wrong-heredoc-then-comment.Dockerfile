# syntax=docker/dockerfile:1.7
FROM python:3.12-slim
RUN <<EOF
pip install --no-cache-dir uv==0.4.0
EOF
# install the app
COPY . /app
USER 1000
