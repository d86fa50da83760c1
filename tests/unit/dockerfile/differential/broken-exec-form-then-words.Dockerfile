FROM debian:12.5 AS base
CMD ["sleep", "1"]

FROM base
# BuildKit runs this line as a shell command; hadolint wants it to end after the array
ENTRYPOINT ["/entrypoint.sh"] # clears the CMD above
