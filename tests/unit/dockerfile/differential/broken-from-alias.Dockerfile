FROM node:20.11-alpine AS
WORKDIR /app
