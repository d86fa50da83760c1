FROM centos:7 AS base
ENV PKGS="cockpit-ws" VER=1.2
# a word without a hyphen is never pinned, variable or not
RUN yum -y install ${PKGS} && yum clean all
# a variable declared by ENV (braced or not) or ARG pins it; an undeclared one does not
RUN yum -y install foo-${VER} && yum clean all
RUN yum -y install foo-$VER && yum clean all
RUN yum -y install foo-${NOPE} && yum clean all
RUN yum -y install foo--1 && yum clean all
# a module needs its stream
RUN yum -y module install nodejs:12 && yum clean all
RUN yum -y module install nodejs && yum clean all

FROM base
RUN yum -y install foo-${VER} && yum clean all

FROM centos:7
ARG AV
# ENV names stay in their stage (and the stages built on it); ARG names do not
RUN yum -y install foo-${VER} && yum clean all
RUN yum -y install foo-${AV} && yum clean all

FROM fedora:40
RUN dnf -y install foo-${AV} && dnf clean all
RUN dnf -y group install "Development Tools" && dnf clean all
RUN dnf -y module install nodejs && dnf clean all
RUN dnf -y install bar-$(echo 1) && dnf clean all
ONBUILD ENV OV=1
ONBUILD RUN yum -y install foo-${OV} && yum clean all
ONBUILD RUN yum -y install foo-${AV} && yum clean all
