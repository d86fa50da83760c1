FROM alpine:3.20
LABEL "registry_image"="example.org/tool"
LABEL org.example/team="infra" "build_date"="2024-01-01"
LABEL Maintainer="someone"
LABEL "com.docker.extension"="x"
LABEL trailing_="x"
