FROM debian:12.5
EXPOSE 80/tcp
EXPOSE 8080 # the admin port
