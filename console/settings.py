"""Switchboard's settings: one module, driven by the environment.

Unset, every variable falls back to the embedded default (SQLite under var/, an in-process
channel layer, a Celery worker inside the console process, the local sandbox as Bandwidth).
Set DEBUG=false and the production profile applies: every secret must come from the
environment, and the process refuses to start naming what is missing.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from console.env import env, env_bool, env_float, env_int, env_list

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env("VAR_DIR", str(BASE_DIR / "var")))
# The embedded worker's beat schedule, the demo users, the SQLite database live here.
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", True)

# The embedded default talks to the sandbox with these credentials; production must set
# its own (checked below), so none of these can leak into a real deployment.
_EMBEDDED = {
    "SECRET_KEY": "embedded-only-" + "x" * 50,
    "BANDWIDTH_ACCOUNT_ID": "9900000",
    "BANDWIDTH_USERNAME": "sandbox",
    "BANDWIDTH_PASSWORD": "sandbox-password",
    "BANDWIDTH_APPLICATION_ID": "04e88489-df02-4e34-a0ee-27a91849555f",
    "WEBHOOK_USERNAME": "bandwidth",
    "WEBHOOK_PASSWORD": "webhook-password",
}
_REQUIRED_IN_PRODUCTION = list(_EMBEDDED)


def _secret(name: str) -> str:
    return env(name, "" if not DEBUG else _EMBEDDED[name])


SECRET_KEY = _secret("SECRET_KEY")
BANDWIDTH_ACCOUNT_ID = _secret("BANDWIDTH_ACCOUNT_ID")
BANDWIDTH_USERNAME = _secret("BANDWIDTH_USERNAME")
BANDWIDTH_PASSWORD = _secret("BANDWIDTH_PASSWORD")
BANDWIDTH_APPLICATION_ID = _secret("BANDWIDTH_APPLICATION_ID")
WEBHOOK_USERNAME = _secret("WEBHOOK_USERNAME")
WEBHOOK_PASSWORD = _secret("WEBHOOK_PASSWORD")

if not DEBUG:
    _missing = [name for name in _REQUIRED_IN_PRODUCTION if not globals()[name]]
    if _missing:
        raise ImproperlyConfigured(
            "DEBUG is off, so these must be set in the environment: " + ", ".join(_missing)
        )

SANDBOX_API_URL = "http://127.0.0.1:8001/api/v2"
BANDWIDTH_API_URL = env(
    "BANDWIDTH_API_URL", SANDBOX_API_URL if DEBUG else "https://voice.bandwidth.com/api/v2"
).rstrip("/")
# Where Bandwidth (or the sandbox) reaches this console's webhooks.
PUBLIC_URL = env("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp) on every page: scripts, styles, images, media and
# connections from this origin only, nothing inline. No template carries an inline script,
# event handler or style attribute, and the pages' scripts never evaluate text
# (tests/console/test_content_security_policy.py); htmx is told so in base.html's htmx-config.
# connect-src 'self' covers the live websocket: CSP Level 3 lets 'self' match wss: on the
# page's host and port, and ws: from an http page
# (https://www.w3.org/TR/CSP3/#match-url-to-source-expression); Chromium does, as
# tests/e2e/test_content_security_policy.py checks (browsers on CSP Level 2 did not, and
# would need the socket's origin listed). The Django admin's scripts are static files too.
# Debug pages (404 and 500 with DEBUG) are sent without the header.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "media-src": [SELF],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", urlsplit(PUBLIC_URL).hostname])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "channels",
    "axes",
    "csp",
    "voice",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages compressed (the board is mostly repeated markup: 5-10x smaller on the wire);
    # streaming responses (CSV exports) stay streaming, each chunk compressed as it goes.
    # Static files come compressed from WhiteNoise, which this leaves alone.
    "django.middleware.gzip.GZipMiddleware",
    "csp.middleware.CSPMiddleware",
    "console.middleware.AdminRefusesNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "console.middleware.AdminForStaffOnlyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "console.middleware.OperatorTimezoneMiddleware",
    # Turns a sign-in refused for a lock-out into the locked-out page; last, as axes asks.
    "axes.middleware.AxesMiddleware",
]
# What of MIDDLEWARE a webhook goes through (console/webhook_path.py), in the same order:
# the middleware that changes its answer or refuses it. The rest serves signed-in people
# (sessions, CSRF, which the webhook is exempt from, authentication, messages, htmx, the
# operator's time zone, axes), static files (WhiteNoise) or the admin (its NUL check, staff
# only).
WEBHOOK_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "console.urls"
# A refused CSRF check is a 403 like any other, on the console's own page.
CSRF_FAILURE_VIEW = "console.views.errors.csrf_failure"
ASGI_APPLICATION = "console.asgi.application"

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
                "console.context_processors.alerts",
            ],
        },
    },
]

# SQLite in the embedded default; WAL and IMMEDIATE transactions so that the webhook view,
# the embedded worker and the page views can write from several threads without
# "database is locked".
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'switchboard.sqlite3'}"), conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A pool, not a connection per request: under ASGI every request runs in a worker
    # thread, and opening a PostgreSQL connection costs more than the webhook's queries.
    DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 2, "max_size": env_int("DATABASE_POOL_SIZE", 20)}}
    # The pool tries a connection before it lends it, so that one PostgreSQL closed (a
    # restart, pg_terminate_backend, an idle timeout) is replaced, never handed to a request.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tests get a file, not Django's shared in-memory database: the integration tests' live
    # server answers the sandbox's webhooks from several threads, and a shared in-memory
    # connection locks ("database table is locked") where files with WAL do not.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# REDIS_URL switches the channel layer and Celery together: an in-process layer only works
# with a worker inside the same process.
REDIS_URL = env("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # Every consumer's receive is a Redis BZPOPMIN blocking for 5 s
            # (RedisChannelLayer.brpop_timeout). redis-py 8 times reads out after 5 s by
            # default, so an idle socket's consumer crashed ("Timeout reading from ...") and
            # closed with 1011: reads must be allowed longer than the block.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "console.layers.ThreadSafeInMemoryChannelLayer"}}

# The cache holds short-lived locks (one reconciliation at a time): in Redis when there are
# separate worker processes, in this process otherwise.
CACHES = {
    "default": (
        # Short timeouts: a request that uses the cache (the route table's version, a
        # waveform wanted) must not hang on a stalled Redis; each use falls back without it.
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Celery (read by console/celery.py with the CELERY_ prefix).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_EMBEDDED_WORKER = not REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# A worker that dies mid-task hands the task back; every task is idempotent and checks
# staleness, so a redelivery is safe. https://docs.celeryq.dev/en/stable/userguide/optimizing.html
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
# Must exceed the longest countdown a task schedules (Retry-After, backoff), or Redis
# redelivers the task while it still waits.
# The in-process (memory://) transport polls; 50 ms keeps "pending" short.
# socket_timeout bounds a publish to a stalled Redis (the hand-over thread's wait, never a
# request's) and must exceed the worker's 1 s blocking read of the queue.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 600,
    "polling_interval": 0.05,
    "socket_timeout": 5,
    "socket_connect_timeout": 2,
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Reconciliation (voice/reconcile.py): every RECONCILE_INTERVAL seconds, live calls and
# conferences nothing has been heard of for RECONCILE_QUIET_AFTER seconds are re-read from
# Bandwidth's API and repaired; calls started in the last RECONCILE_LOOKBACK seconds are
# listed to find the ones no webhook announced.
RECONCILE_INTERVAL = env_float("RECONCILE_INTERVAL", 60.0)
RECONCILE_QUIET_AFTER = env_float("RECONCILE_QUIET_AFTER", 30.0)
RECONCILE_LOOKBACK = env_float("RECONCILE_LOOKBACK", 3600.0)
# Bandwidth's call records may take a few minutes to appear (getCall answers 404 for a
# call that is up): a 404 ends a call or conference only once it is older than this.
RECONCILE_FORGET_AFTER = env_float("RECONCILE_FORGET_AFTER", 600.0)

# Alerts (console/alerts.py): the rules are evaluated every ALERT_INTERVAL seconds; a
# delivery (webhook, e-mail) is tried ALERT_DELIVERY_MAX_ATTEMPTS times, backing off from
# ALERT_DELIVERY_BACKOFF seconds (doubling, at most 5 minutes).
ALERT_INTERVAL = env_float("ALERT_INTERVAL", 15.0)
ALERT_DELIVERY_MAX_ATTEMPTS = env_int("ALERT_DELIVERY_MAX_ATTEMPTS", 8)
ALERT_DELIVERY_BACKOFF = env_float("ALERT_DELIVERY_BACKOFF", 2.0)
ALERT_WEBHOOK_TIMEOUT = (3.05, 10.0)
# Alerts by e-mail go through Django's mail settings: SMTP at EMAIL_HOST. The embedded
# default, with no EMAIL_HOST, writes them to the console's output instead.
EMAIL_HOST = env("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "switchboard@localhost")
EMAIL_BACKEND = (
    "django.core.mail.backends.console.EmailBackend" if DEBUG and not EMAIL_HOST else "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = EMAIL_HOST or "localhost"

# Beat notes each tick in the cache, for /readyz (console/beat.py).
CELERY_BEAT_SCHEDULER = "console.beat:HeartbeatScheduler"
# /metrics answers a request with "Authorization: Bearer <METRICS_TOKEN>" (or a staff user
# signed in); without a token set, staff only.
METRICS_TOKEN = env("METRICS_TOKEN", "")

CELERY_BEAT_SCHEDULE = {
    # Actions a worker never picked up are handed over again, or dropped once stale.
    "sweep-actions": {"task": "voice.tasks.sweep_actions", "schedule": 5.0, "options": {"expires": 5.0}},
    # A run still queued when the next is due is dropped, never stacked.
    "reconcile": {
        "task": "voice.tasks.reconcile",
        "schedule": RECONCILE_INTERVAL,
        "options": {"expires": RECONCILE_INTERVAL},
    },
    # Alert rules evaluated (console/alerts.py), lost deliveries handed over again.
    "alerts": {
        "task": "console.tasks.evaluate_alerts",
        "schedule": ALERT_INTERVAL,
        "options": {"expires": ALERT_INTERVAL},
    },
}

# The live board: a call up longer than LONG_CALL_AFTER stands out, one up longer than
# STUCK_CALL_AFTER is flagged stuck (seconds).
LONG_CALL_AFTER = env_int("LONG_CALL_AFTER", 30 * 60)
STUCK_CALL_AFTER = env_int("STUCK_CALL_AFTER", 2 * 60 * 60)

# Live pushes (console/live.py): committed changes are published by a thread of each
# process, off the committer's path. Tests turn it off and render with console.live.drain().
LIVE_PUSH_IN_BACKGROUND = True
# A live group sends at most one frame per this many seconds (a leading-edge throttle: the
# first change after a quiet interval goes at once). At 100 changes a second a change waits
# for the interval's end, half of it on average: 12 ms keeps the median from webhook to
# browser under 20 ms, at most 83 frames a second per browser (docs/benchmarks.md).
LIVE_PUSH_INTERVAL = env_float("LIVE_PUSH_INTERVAL", 0.012)
# Seconds between two checks that each open websocket's session still holds (expiry); a
# sign-out, a deactivation or a permission change closes sockets at once.
LIVE_SESSION_CHECK_INTERVAL = env_float("LIVE_SESSION_CHECK_INTERVAL", 30.0)

# Bandwidth's media streams (who is talking, console/media_consumer.py): at most this many
# open in one console process (three full conferences take 60), messages of at most this
# many characters (a 20 ms frame is about 300), on average at most this many messages a
# second per stream (Bandwidth sends 50), in bursts of at most MEDIA_MESSAGES_BURST.
MEDIA_STREAMS_MAX = env_int("MEDIA_STREAMS_MAX", 120)
MEDIA_MESSAGE_MAX_BYTES = env_int("MEDIA_MESSAGE_MAX_BYTES", 8192)
MEDIA_MESSAGES_PER_SECOND_MAX = env_int("MEDIA_MESSAGES_PER_SECOND_MAX", 100)
MEDIA_MESSAGES_BURST = env_int("MEDIA_MESSAGES_BURST", 250)

# Tasks are handed to Celery by a thread of each process, off the request's path
# (voice/handover.py). Unit tests hand them over in the committing thread.
HANDOVER_IN_BACKGROUND = True

# Operator actions: a queued action older than this is dropped, never applied late.
ACTION_STALE_AFTER = env_float("ACTION_STALE_AFTER", 30.0)
ACTION_MAX_ATTEMPTS = env_int("ACTION_MAX_ATTEMPTS", 6)
# The same action asked again this soon after it was done (a second operator's click at the
# same moment, a double submit that lost the race with a fast worker) is that action, not a
# second request to Bandwidth.
ACTION_REPEAT_WINDOW = env_float("ACTION_REPEAT_WINDOW", 3.0)
# A worker holds an action it is sending for this long; if it dies, the action is resolved
# by reading Bandwidth once the lease has run out. It must exceed what one attempt can take
# (a request and a read, each up to BANDWIDTH_CONNECT_TIMEOUT + BANDWIDTH_READ_TIMEOUT), or
# a slow but living worker's action is resolved by another while it is still being sent.
ACTION_CLAIM_LEASE = env_float("ACTION_CLAIM_LEASE", 60.0)
BANDWIDTH_TIMEOUT = (env_float("BANDWIDTH_CONNECT_TIMEOUT", 3.05), env_float("BANDWIDTH_READ_TIMEOUT", 10.0))
# Webhook bodies larger than this are refused; Bandwidth's payloads are a few KB.
WEBHOOK_MAX_BYTES = env_int("WEBHOOK_MAX_BYTES", 64 * 1024)

# Recordings: Bandwidth keeps them 30 days; an archived copy goes to Django's default storage
# (files under MEDIA_ROOT unless STORAGES says otherwise). No MEDIA_URL serves them: archived
# media are streamed only by the console's recording views, behind the same permission checks.
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
# Archive every recording as soon as Bandwidth has processed it (voice/archive.py).
ARCHIVE_RECORDINGS = env_bool("ARCHIVE_RECORDINGS", False)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Sign-in throttling (django-axes, issue 12). A username is locked out from one address after
# SIGNIN_FAILURE_LIMIT wrong passwords, for SIGNIN_LOCKOUT_SECONDS after the last of them:
# 5 per 15 minutes is about 20 guesses an hour per username and address, below OWASP ASVS's
# 100 an hour (V2.2.1). Locking the username and the address together means an attacker
# locks out only their own address, never the owner signing in from elsewhere; the lock-out
# has a fixed end (a retry while locked does not push it back) and an admin can lift it
# sooner (README, "Sign-in").
AUTHENTICATION_BACKENDS = [
    # Refuses a locked-out username and address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("SIGNIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(seconds=env_int("SIGNIN_LOCKOUT_SECONDS", 15 * 60))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A successful sign-in forgets the earlier failures of that username and address.
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "console.signin.client_address"
AXES_LOCKOUT_CALLABLE = "console.signin.locked_out_page"
# How many proxies in front of daphne append the address they saw to X-Forwarded-For. 0: the
# connection's own address is the client's. Behind one TLS proxy set 1, or every sign-in
# seems to come from the proxy and a lock-out locks the username out from everywhere.
PROXY_COUNT = env_int("PROXY_COUNT", 0)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "console-board"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "UTC")
# The console's home country (an ISO 3166 region code): its numbers are shown in national
# format, (919) 555-0100, every other in international format, +44 20 7946 0000.
PHONE_HOME_REGION = env("PHONE_HOME_REGION", "US").upper()
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
# The embedded default serves straight from static/ (no collectstatic step); production
# serves the collected, hashed files.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
if not DEBUG:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

if not DEBUG:
    # Production sits behind a TLS proxy (Bandwidth requires https for authenticated
    # callbacks). SECURE_COOKIES and SECURE_SSL_REDIRECT may be turned off only to try the
    # production profile over plain http, as docker-compose.yml does with the sandbox.
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # The load balancer's health check speaks plain http to each process.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"no_traceback_below_500": {"()": "console.log_filters.NoTracebackBelow500"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["no_traceback_below_500"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler (DEBUG only) would print each of its lines a second
        # time beside the root's: listed here without handlers, they reach the root once.
        "django": {"level": "INFO"},
        "django.channels.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        # The in-memory broker has no host name, which kombu warns about on every start.
        "kombu.connection": {"level": "ERROR"},
        # One line per task at INFO; failures still show.
        "celery": {"level": env("CELERY_LOG_LEVEL", "WARNING")},
        # A line per sign-in at INFO; failures and lock-outs are warnings.
        "axes": {"level": "WARNING"},
    },
}
