FROM alpine:3.20
# a word right after a subshell's ")" (PowerShell's `(New-Object X).Method()`): ShellCheck's
# parser stops there and keeps what it read (two commands here: not a "single" RUN)
RUN echo one; (echo two).Method(x)
RUN echo three
# inside an if, a loop or a subshell it fails: no command at all
RUN echo four; if (echo five).Hash; then echo six; fi
RUN echo seven; ( (echo eight).Hash )
RUN echo nine; for i in 1; do (echo ten) eleven; done
RUN echo twelve
# a function's name() is no subshell
RUN f() { echo a; } ; f
RUN echo thirteen
