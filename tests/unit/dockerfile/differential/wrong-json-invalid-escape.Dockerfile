FROM alpine:3.20
# no JSON (\S is no JSON escape): BuildKit runs it as a shell form; hadolint's string reader
# keeps the backslash and reads an exec form
CMD ["C:\ServiceMonitor.exe", "w3svc"]
