FROM @@CONTAINER@@
RUN apt-get install curl
