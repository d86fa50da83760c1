FROM debian:12
ARG MY_VARIABLE=1
ARG DOWNLOAD_URL
ENV GROUPS=x PIPESTATUS=y
ARG abc
ARG mytoken
ARG Path_Prefix
RUN echo "$MY_VARIABLEE" "$DOWNLOADURL"
RUN echo "$mytokn" "$ab"
RUN echo "${!DOWNLOAD*}"
RUN true
RUN echo "$my_variable" "$PATH_PREFIX" "$download_url"
RUN echo "$MY_VARIABLE"
