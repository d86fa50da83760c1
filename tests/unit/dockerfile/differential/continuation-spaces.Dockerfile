FROM debian:12.5-slim
# ShellCheck sees each continuation and the indentation after it as one space
RUN echo hello \
        world
RUN echo "deb http://deb.debian.org/debian bookworm main" \
        > /etc/apt/sources.list.d/extra.list
ONBUILD RUN echo building \
        the \
    # a comment line inside the continuation
	    application
RUN echo several     spaces
