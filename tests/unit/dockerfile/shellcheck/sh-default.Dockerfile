FROM debian:12
ARG VERSION=1.0
ENV APP_HOME=/opt/app
RUN echo $VERSION > /v
RUN export FOO=$(date) && echo "$FOO"
RUN ls $(find . -name x)
RUN cd /tmp && make
RUN rm -rf *.tmp
RUN echo "${APP_HOME}" "$undeclared_thing"
RUN echo '$HOME is not expanded'
RUN [[ -f /x ]] && echo yes
RUN echo ${VERSION//./_}
RUN source /etc/profile && echo ok
RUN for f in $(ls /etc); do echo "$f"; done
RUN if [ $VERSION == "1.0" ]; then echo one; fi
RUN echo "unterminated
RUN useradd -m app; echo ~app
RUN echo $((1 + 2)) `date`
RUN read line < /etc/hostname && echo "$line"
RUN local_var=1; echo "$local_var"
RUN curl -fsSL https://x | sh
RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
RUN echo "a" >> /f; echo "b" >> /f; echo "c" >> /f
RUN which curl
RUN trap 'rm /tmp/x' EXIT
RUN echo -e "a\tb"
RUN sed -i "s/a/b/" $FILE_NOT_DECLARED
RUN grep -r foo . | wc -l
