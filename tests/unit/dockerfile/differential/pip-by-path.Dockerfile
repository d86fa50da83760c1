FROM python:3.12-slim
RUN python3 -m venv /venv
RUN /venv/bin/pip install flask
RUN bin/pip install gunicorn
RUN /usr/local/bin/python3 -m pip install requests
RUN pip install uvicorn
RUN pipenv install
RUN python3 -m pip install httpx
