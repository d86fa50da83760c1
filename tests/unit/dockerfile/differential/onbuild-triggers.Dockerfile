FROM debian:12.5-slim
WORKDIR /app
# rules hadolint applies to ONBUILD triggers (package rules) and the ones it does not
ONBUILD RUN cd /app/src && make install
ONBUILD CMD make serve
ONBUILD ENTRYPOINT /app/run
ONBUILD HEALTHCHECK CMD curl -f http://localhost/
ONBUILD RUN apt-get update && apt-get install -y curl
ONBUILD COPY build.sh build/
CMD ["/app/run"]
