# Two targets. The default is the last stage, `production` (docker-compose.yml names it too):
# the run-time requirements and only the code the web, worker, beat and `flask db upgrade`
# processes import. `docker build --target demo .` adds the Twilio sandbox, scripts/run_dev.py
# and requirements-dev.txt: `make run` in a container, on the embedded default.

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# The code stays root's and read-only to the service user; it writes only to its instance
# folder (create_app makes it) and the audio cache (a volume in docker-compose.yml).
RUN useradd --create-home ringly \
    && mkdir -p /app/instance /var/lib/ringly/audio \
    && chown ringly /app/instance /var/lib/ringly/audio
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY wsgi.py celeryconfig.py gunicorn.conf.py ./
COPY migrations/ migrations/
COPY worker/ worker/
# ringly/ one package at a time, so ringly/sandbox/ is never in these layers
# (tests/test_image.py fails when a package is missing here).
COPY ringly/*.py ringly/
COPY ringly/admin/ ringly/admin/
COPY ringly/booking/ ringly/booking/
COPY ringly/clients/ ringly/clients/
COPY ringly/console/ ringly/console/
COPY ringly/events/ ringly/events/
COPY ringly/messaging/ ringly/messaging/
COPY ringly/provisioning/ ringly/provisioning/
COPY ringly/telephony/ ringly/telephony/
COPY ringly/voice/ ringly/voice/
EXPOSE 8000

# Not for production: the sandbox plays Twilio and nothing real is bought. scripts/run_dev.py
# serves on the container's loopback, so reach it with `docker exec`.
FROM runtime AS demo
COPY requirements-dev.txt ./
RUN pip install --no-cache-dir -r requirements-dev.txt
COPY ringly/sandbox/ ringly/sandbox/
COPY scripts/ scripts/
USER ringly
CMD ["python", "scripts/run_dev.py"]

FROM runtime AS production
USER ringly
CMD ["gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"]
