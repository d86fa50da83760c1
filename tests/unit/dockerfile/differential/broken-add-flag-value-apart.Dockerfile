FROM alpine:3.20
ADD --chmod=644 --link config.txt /etc/app/
# a valued flag given its value apart: BuildKit and hadolint both refuse it
ADD --chmod 755 run.sh /usr/local/bin/
