FROM node:20.11-alpine
WORKDIR /app
{{ if .Debug }}
RUN apk add curl
{{ end }}
CMD node server.js
