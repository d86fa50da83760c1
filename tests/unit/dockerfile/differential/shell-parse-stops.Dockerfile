FROM debian:12.5
# ShellCheck's parser stops at a command that starts with "&": hadolint's rules see
# only what came before it (one command here, and no pipe)
RUN echo one; &echo two | cat
RUN echo three
# it fails on a "[" glued to a word, an operator after a pipe, cmd.exe's for loop:
# no command at all, so each of these is a "single" RUN
RUN [Net.ServicePointManager]::SecurityProtocol = 1; echo four; echo five
RUN echo six | | cat; echo seven
RUN echo eight && (for /D %i in (x) do echo nine)
# a command whose name is an expansion is no command to hadolint
RUN apt-get update && $INSTALL curl
RUN echo ten

FROM debian:12.6
# a "(" after a command's words stops it there; backticks are read apart
RUN echo one; $v = (echo two); echo three
RUN echo `echo four; &echo five`; echo six
RUN plat=$(case "$(uname -m)" in x86_64) echo amd64;; *) echo other;; esac); echo "$plat"
RUN echo seven
