FROM alpine:3.20
COPY <<EOF /etc/motd
welcome
EOF

ADD <<EOF /etc/app.conf
port=8080
EOF

USER nobody
