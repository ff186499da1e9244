# One image for every Switchboard process (web, worker, beat, sandbox); see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# HAProxy for the lb service (manage.py loadbalancer), from Debian.
RUN apt-get update && apt-get install -y --no-install-recommends haproxy && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
COPY console/__init__.py console/
COPY voice/__init__.py voice/
RUN pip install -e .

COPY . .
# collectstatic only reads files; the placeholders satisfy the production profile's checks.
RUN DEBUG=false VAR_DIR=/app/var SECRET_KEY=build BANDWIDTH_ACCOUNT_ID=build BANDWIDTH_USERNAME=build \
    BANDWIDTH_PASSWORD=build BANDWIDTH_APPLICATION_ID=build WEBHOOK_USERNAME=build WEBHOOK_PASSWORD=build \
    python manage.py collectstatic --noinput -v 0 \
 && mkdir -p /app/var/media \
 && useradd --system --home /app switchboard && chown -R switchboard /app/var

USER switchboard
ENV VAR_DIR=/app/var
EXPOSE 8000 8001
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "console.asgi:application"]
