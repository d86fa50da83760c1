FROM alpine:3.20
# a line of blanks and the escape before an instruction: hadolint reads it as blanks and
# puts the instruction on its keyword's line
 \
RUN apk add curl | cat
\
  \
RUN apk add jq | cat
