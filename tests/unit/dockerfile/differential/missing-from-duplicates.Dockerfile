# no FROM at all: a fragment meant to be included somewhere
WORKDIR /app
COPY . .
HEALTHCHECK CMD curl -f http://localhost/
HEALTHCHECK NONE
ENTRYPOINT ["/app/start"]
ENTRYPOINT ["/app/run"]
CMD ["a"]
CMD ["b"]
