# syntax=docker/dockerfile:1
FROM python:3.12-slim
ARG EXTRA
RUN <<EOF
set -e
echo $EXTRA
pip install -r requirements.txt
EOF

RUN <<EOF bash
echo ${EXTRA,,}
EOF

RUN <<-EOT
	cd /app
	ls `pwd`
EOT

RUN cat <<EOF > /etc/app.conf
value=$EXTRA
EOF

RUN <<EOF
#!/usr/bin/env python3
print("hi" + $x)
EOF

ONBUILD ARG ONB_VAR
ONBUILD RUN echo $ONB_VAR
ONBUILD RUN echo "$EXTRA" "$undeclared_in_onbuild"
ONBUILD RUN cd /x
