FROM alpine:3.20
# a line that ends with an escaped escape continues nothing (BuildKit and hadolint)
ENV X=a\\
ENV Y=b
LABEL a=b\\
RUN echo "$X$Y"
