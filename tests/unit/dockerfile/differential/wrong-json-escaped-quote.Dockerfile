FROM alpine:3.20
# JSON reads \\ then \" (a backslash, then a quote) and BuildKit runs the array; hadolint's
# string reader takes the run of backslashes before the quote apart, fails, and reads
# the shell form (DL3025)
CMD ["echo", "a\\\"b"]
