FROM node:20.11-alpine
ENV NODE_ENV=production
ENV APP_NAME="billing service APP_PORT=8080
EXPOSE 8080
