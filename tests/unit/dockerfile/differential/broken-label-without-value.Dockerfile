FROM nginx:1.25-alpine
LABEL maintainer="ops@example.org" version
COPY site/ /usr/share/nginx/html/
