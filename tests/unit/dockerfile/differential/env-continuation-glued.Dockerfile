FROM node:22.11-alpine3.20
# no blank before the continuation: hadolint reads one pair (NODE_24 = "24.1NODE_22=..."),
# so ShellCheck hears of NODE_24 only; BuildKit sets both
ENV NODE_24="24.1"\
    NODE_22="22.11"
RUN echo "$NODE_22" "$NODE_24"
