FROM amazonlinux:2
# a clean before the install counts as the first clean, so the install after it is reported
RUN yum clean metadata && yum install -y python38-3.8.16 && yum clean all
RUN yum install -y tar-1.26 && rm -rf /tmp/build
RUN yum install -y gzip-1.5 && yum clean packages
RUN yum install -y make-3.82 && rm -rf /var/cache/yum
RUN yum install -y gcc-7.3 && rm -rf /var/cache/yum/*
RUN --mount=type=cache,target=/var/cache/yum yum install -y git-2.40
RUN yum groupinstall -y "Development Tools"

FROM fedora:40
RUN dnf clean all && dnf install -y curl-8.6.0
RUN dnf install -y jq-1.7 && dnf clean all
RUN --mount=type=cache,target=/var/cache/libdnf5 dnf install -y vim-9.1
RUN microdnf install -y tar-1.35 && dnf clean all
RUN dnf upgrade -y
