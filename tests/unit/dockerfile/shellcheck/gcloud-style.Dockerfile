FROM gcr.io/google-appengine/debian12
ENV PORT 8080
RUN apt-get update -y && \
    apt-get install --no-install-recommends -y -q \
      curl \
      ca-certificates && \
    apt-get clean && \
    rm /var/lib/apt/lists/*_*
RUN mkdir -p /app && \
    export VERSION=$(cat /version) && \
    echo $VERSION
RUN for i in 1 2 3; do \
      echo $i; \
    done
RUN test -n "$PORT" || exit 1
RUN echo $PORT \
    # a comment inside a continuation
    && echo done
WORKDIR /app
RUN chmod 755 $(ls /app/*.sh) || true
RUN echo "$HOSTNAME"; cd -
