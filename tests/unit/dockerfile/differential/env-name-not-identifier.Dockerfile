FROM ubuntu:24.04
# the legacy form declares the name `MYSQL_PASS:-$(pwgen`: hadolint exports it to ShellCheck
# ahead of every RUN after it, and ShellCheck fails to parse that line
ENV MYSQL_PASS:-$(pwgen -s 12 1)
RUN echo "$HOME"
