"""Settings, all from the environment (see README, "Configuration"); defaults suit a local `make run`."""

import contextlib
import os
import secrets
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)  # on only when asked: a stack started as it is runs as in production


def local_secret_key(path: Path) -> str:
    """This checkout's own random secret key, made once and kept beside its stacks' data (never a known one)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        made = path.with_name(f"{path.name}.{os.getpid()}")
        made.write_text(secrets.token_urlsafe(50))
        made.chmod(0o600)
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs it is
            os.link(made, path)  # whole or not at all, so no process ever reads half a key
        made.unlink()
    return path.read_text().strip()


# Production sets DJANGO_SECRET_KEY (docker-compose insists); every process of one checkout shares the file's.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or local_secret_key(BASE_DIR / ".stack" / "secret-key")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "corsheaders",
    "django_htmx",
    "strawberry_django",
    "kernel",
    "accounts",
    "alerts",
    "transfers",
    "banking",
    "kafka_bridge",
    "graphql_api",
    "pages",
    "loadtest",
    "health_check",
    "operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "bankproject.urls"
ASGI_APPLICATION = "bankproject.asgi.application"
WSGI_APPLICATION = "bankproject.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Two sides of CQRS, two databases: `default` is the read model, `ledger` the command side's state.
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:54320/bank"),
    "ledger": env.db("LEDGER_DATABASE_URL", default="postgres://postgres@127.0.0.1:54320/ledger"),
}
for database in DATABASES.values():
    # A pool per process: threads borrow a connection per unit of work and give it back, so neither the web
    # process's threads nor a restarted database leave connections behind (CONN_MAX_AGE must then be 0).
    database.setdefault("CONN_MAX_AGE", 0)
    database.setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": env.int("DATABASE_POOL_SIZE", default=8),
        "timeout": 5,  # seconds to wait for a connection: a database that is away is a transient error
    }
DATABASES["ledger"].setdefault("TEST", {})["DEPENDENCIES"] = []  # tests may use the ledger alone
DATABASE_ROUTERS = ["bankproject.routers.CommandQueryRouter"]
# Threads that run the web's reads of the read model (GraphQL queries): a slow one holds up only its own.
DATABASE_READ_THREADS = env.int("DATABASE_READ_THREADS", default=4)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:63790/0")
CHANNEL_LAYERS = {
    "default": {
        # Redis pub/sub: a group send is one PUBLISH, and a group's members live in their process, so they
        # leave with it (see docs/decisions.md). Live notifications are best effort either way.
        "BACKEND": "bankproject.channel_layers.PubSubChannelLayer",
        # Sealed with a key derived from SECRET_KEY (Fernet): whoever reaches Redis can neither read an answer's
        # token nor send an answer of their own.
        "CONFIG": {"hosts": [REDIS_URL], "symmetric_encryption_keys": [SECRET_KEY]},
    },
}
CACHES = {
    # Shared by every process: login attempts are counted here, and one load test runs at a time.
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "bank"}
}
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL

# Kafka and the schema registry (Confluent-compatible API; Apicurio's is at /apis/ccompat/v7).
KAFKA_BOOTSTRAP_SERVERS = env.str("KAFKA_BOOTSTRAP_SERVERS", default="127.0.0.1:9092")
SCHEMA_REGISTRY_URL = env.str("SCHEMA_REGISTRY_URL", default="http://127.0.0.1:8081/apis/ccompat/v7")
# TLS to Kafka (the cluster profile): each process presents its own principal's certificate (PEM files).
KAFKA_SECURITY_PROTOCOL = env.str("KAFKA_SECURITY_PROTOCOL", default="PLAINTEXT")
KAFKA_SSL_CA_LOCATION = env.str("KAFKA_SSL_CA_LOCATION", default="")
KAFKA_SSL_CERTIFICATE_LOCATION = env.str("KAFKA_SSL_CERTIFICATE_LOCATION", default="")
KAFKA_SSL_KEY_LOCATION = env.str("KAFKA_SSL_KEY_LOCATION", default="")
# The original hard-coded linger.ms (0, 10, 25 and 100 in its load tests); here it is a setting.
KAFKA_LINGER_MS = env.int("KAFKA_LINGER_MS", default=0)
KAFKA_TOPOLOGY_FILE = env.path("KAFKA_TOPOLOGY_FILE", default=BASE_DIR / "kafka_bridge" / "wire" / "topology.toml")

# Alerts are mailed with Django's e-mail framework: to the console unless told otherwise.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default="")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="alerts@openbank.example")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Who may read accounts (accounts.access): anyone, as in the original; or, private, an account its owner (its token
# or session) and staff, every account at once staff only.
PRIVATE_READS = env.bool("PRIVATE_READS", default=False)
ALERT_MAILS_PER_HOUR = env.int("ALERT_MAILS_PER_HOUR", default=20)  # per account; beyond it alerts are not mailed

# How the domain's commands reach the bank (kernel.bus), and how long they wait for its answer.
COMMAND_BUS = env.str("COMMAND_BUS", default="kafka_bridge.bus.KafkaCommandBus")
COMMAND_ANSWER_TIMEOUT = env.float("COMMAND_ANSWER_TIMEOUT", default=10.0)

# Logins: password hashing has threads of its own (never the one all database reads share) and a bounded
# queue (beyond it a login is told the bank is busy); wrong passwords are counted per username and address
# (and, more widely, per username), attempts per client address. The admin's login counts them too.
PASSWORD_HASHING_THREADS = env.int("PASSWORD_HASHING_THREADS", default=2)
PASSWORD_HASHING_QUEUE = env.int("PASSWORD_HASHING_QUEUE", default=200)
LOGIN_FAILURES_PER_MINUTE = env.int("LOGIN_FAILURES_PER_MINUTE", default=10)  # one username, one address
LOGIN_FAILURES_PER_MINUTE_PER_USERNAME = env.int("LOGIN_FAILURES_PER_MINUTE_PER_USERNAME", default=100)
LOGINS_PER_MINUTE_PER_ADDRESS = env.int("LOGINS_PER_MINUTE_PER_ADDRESS", default=120)
# Commands (transfers, logins' account commands, alert rules) a client address, and an account (its customer's
# username or its IBAN), may send a minute: every one adds records that the topics keep forever. Addresses in
# COMMAND_LIMIT_EXEMPT_ADDRESSES are not counted (devstack's stacks exempt this machine's own, for benchmarks).
COMMANDS_PER_MINUTE_PER_ADDRESS = env.int("COMMANDS_PER_MINUTE_PER_ADDRESS", default=600)
COMMANDS_PER_MINUTE_PER_ACCOUNT = env.int("COMMANDS_PER_MINUTE_PER_ACCOUNT", default=120)
COMMAND_LIMIT_EXEMPT_ADDRESSES = env.list("COMMAND_LIMIT_EXEMPT_ADDRESSES", default=[])
# The first hashes new passwords; the others still check older hashes, which are made again at a good login.
PASSWORD_HASHERS = [
    "accounts.hashers.OwaspArgon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
AUTHENTICATION_BACKENDS = ["accounts.backends.ThrottledModelBackend"]

# Consumer groups whose lag /metrics and the Status page report, and whose heartbeats /health/ checks.
MONITORED_CONSUMER_GROUPS = env.list("MONITORED_CONSUMER_GROUPS", default=["command-handler", "projector", "alerts"])

# Origins whose pages may call /graphql (CORS) and open websockets, beside our own: the original's
# single-page frontend ran on http://localhost:8181. Same-origin pages and non-browser clients always may.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
GRAPHQL_MAX_REQUEST_BYTES = env.int("GRAPHQL_MAX_REQUEST_BYTES", default=64 * 1024)
# A query resolves no field after this many seconds of its execution: none holds the web process's event
# loop for long.
GRAPHQL_DEADLINE_SECONDS = env.float("GRAPHQL_DEADLINE_SECONDS", default=1.0)
# Websockets one client address may hold open on a web process, and operations (subscriptions, and queries
# or mutations under way) one GraphQL websocket may run at once: each delivery costs the shared event loop.
WEBSOCKETS_PER_ADDRESS = env.int("WEBSOCKETS_PER_ADDRESS", default=100)
GRAPHQL_OPERATIONS_PER_WEBSOCKET = env.int("GRAPHQL_OPERATIONS_PER_WEBSOCKET", default=10)
# The original clients' get_account and money_transfer subscriptions without strawberry's executor, the same frames
# (graphql_api/fast_path.py); off, every operation takes strawberry's road (to compare the two).
GRAPHQL_FAST_PATH = env.bool("GRAPHQL_FAST_PATH", default=True)

LOADTEST_RESULTS_DIR = Path(env.str("LOADTEST_RESULTS_DIR", default=str(BASE_DIR / "loadtest-results")))

WEB_URL = env.str("WEB_URL", default="http://127.0.0.1:8000")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Only where `collectstatic` runs (the Docker image sets it); WhiteNoise warns about a missing folder.
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default="") or None
# WhiteNoise serves the files where they are (static/ and the apps'), so neither `make run` nor the
# tests need `collectstatic`; the Docker image still collects them into STATIC_ROOT, served as well.
WHITENOISE_USE_FINDERS = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"command": {"()": "kernel.logs.CommandIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "kernel.logs.JsonFormatter"},  # LOG_FORMAT=json: one line per event, with its command id
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env.str("LOG_FORMAT", default="plain"),
            "filters": ["command"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"level": "INFO"},
        "httpx2": {"level": "WARNING"},  # the registry client logs every request at INFO
    },
}
