FROM ubuntu:22.04
ARG TARGET
ENV NODE_ENV=production
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN echo ${TARGET,,}
RUN [[ -n "$TARGET" ]] && echo set
RUN local x=1
RUN export PATH=$PATH:$(pwd)
RUN cd /opt && ./configure
RUN mapfile -t arr < /etc/passwd; echo "${arr[0]}"
RUN echo $RANDOM_UNDECLARED
RUN echo "$NODE_ENV" $NODE_ENV
RUN ls *.txt
RUN echo "$(cat /etc/os-release | grep ID)"

FROM ubuntu:22.04 AS second
RUN echo ${TARGET,,}
RUN [[ -n "$x" ]]

FROM second AS third
SHELL ["/bin/bash", "-c"]
RUN echo $(whoami)
RUN echo ${x^^}
