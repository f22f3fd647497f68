"""Selfkind settings, read from environment variables (documented in .env.example).

SELFKIND_ENV selects the mode: "development" (default; SQLite, relaxed transport security) or
"production" (secret and hosts required, HTTPS enforced; passes `manage.py check --deploy`).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from config.env import ImproperlyConfiguredEnv, env_bool, env_int, env_list, env_secret, env_str
from config.staticfinders import PLOTLY_STYLE_HASHES

BASE_DIR = Path(__file__).resolve().parent.parent

SELFKIND_ENV = env_str("SELFKIND_ENV", "development")
if SELFKIND_ENV not in {"development", "production"}:
    raise ImproperlyConfiguredEnv(
        f"SELFKIND_ENV must be development or production, got {SELFKIND_ENV!r}"
    )
PRODUCTION = SELFKIND_ENV == "production"

DEBUG = env_bool("DJANGO_DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfiguredEnv("DJANGO_DEBUG cannot be true when SELFKIND_ENV=production")

if PRODUCTION:
    SECRET_KEY = env_secret("DJANGO_SECRET_KEY")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfiguredEnv("DJANGO_SECRET_KEY must be at least 50 random characters")
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfiguredEnv("DJANGO_ALLOWED_HOSTS must list the site's host names")
else:
    SECRET_KEY = env_secret(
        "DJANGO_SECRET_KEY", "development-only-key-never-used-in-production-0123456789abcdef"
    )
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "huey.contrib.djhuey",
    "clinic",
    "assessments",
    "tracking",
    "dashboard",
]

MIDDLEWARE = [
    "config.requestlog.RequestLogMiddleware",  # outermost: times and sees every answer
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "clinic.middleware.NoStoreMiddleware",
    "clinic.middleware.SessionLifetimeMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "clinic.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "clinic.middleware.ClinicTimezoneMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

# --- Database -------------------------------------------------------------------------------
# SQLite (a git-ignored file under var/) unless DATABASE_URL says otherwise. PostgreSQL keeps
# connections open (CONN_MAX_AGE) with health checks, so a request does not pay a new connection.
(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'selfkind.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves several threads or workers at once without losing a write:
    # write-ahead logging (readers never block the writer), a busy timeout (a second writer
    # waits instead of failing with "database is locked"), and transactions that take the
    # write lock when they begin (IMMEDIATE: no deadlock upgrading a read lock to a write).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA foreign_keys=ON; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT_SECONDS", 20),
    }
# PostgreSQL: parameters travel apart from the SQL text (server-side binding), so a page's
# queries have one text whatever the client, clinician or date, and psycopg prepares each
# statement after its fifth use on a connection: PostgreSQL then skips parsing and planning it.
# Planning was more than half of the clinician dashboard's database time (3.3 of 5.9 ms at tenth
# scale). Turn it off behind a pooler that cannot keep prepared statements (PgBouncer in
# transaction mode without max_prepared_statements).
PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and PREPARED_STATEMENTS:
    # Added to what DATABASE_URL's query string set (sslmode and the like), not in its place.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
# Only what must be shared between workers and may be lost (rate limits, throttles) lives in the
# cache: no page, figure or verdict depends on it, for correctness or for speed. Production runs
# several workers (and machines), so it requires a shared cache: Django's Redis backend.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "selfkind",
        }
    }
elif PRODUCTION:
    raise ImproperlyConfiguredEnv(
        "REDIS_URL must be set when SELFKIND_ENV=production (a cache shared by every worker, "
        "e.g. redis://127.0.0.1:6379/0)"
    )

# --- Authentication and sessions -----------------------------------------------------------
AUTH_USER_MODEL = "clinic.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Staff and clients alike: at least 12 characters, and never the login name inside it
# (Django's similarity check lets "drewdrew1" through for "drew").
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "clinic.passwords.UsernameNotInPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 7  # invitation links stay valid for a week

# Database sessions that record their user, so discharge can end a client's sessions with one
# indexed delete (clinic.sessions).
SESSION_ENGINE = "clinic.sessions"
# A session ends after 30 minutes without a request: every request pushes the expiry on.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
# "Saved" messages wait for the next page in the session, on the server: they name clients
# ("Client RC-012 created", an invitation's email address), and Django's default keeps them in
# a cookie that is signed, not encrypted, so they would sit readable in the browser's cookie
# store. The session is written on every request anyway, so this costs no query; signing and
# compressing a cookie cost a post about 0.3 ms. Warnings and the latest few others wait
# (clinic.sessions).
MESSAGE_STORAGE = "clinic.sessions.RecentMessagesStorage"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# ...and, active or not, a set number of hours after signing in (clinic.middleware).
SELFKIND_SESSION_MAX_HOURS = env_int("SELFKIND_SESSION_MAX_HOURS", 12)
if not 1 <= SELFKIND_SESSION_MAX_HOURS <= 24:
    raise ImproperlyConfiguredEnv("SELFKIND_SESSION_MAX_HOURS must be between 1 and 24")

# Brute-force protection (django-axes, with clinic.lockout.LockoutHandler): a username is locked
# from one address after AXES_FAILURE_LIMIT failures, and an address is locked for every
# username after SELFKIND_ADDRESS_FAILURE_LIMIT failures across usernames (password spraying).
# Both for AXES_COOLOFF_TIME. The page shown never says whether the username exists.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
SELFKIND_ADDRESS_FAILURE_LIMIT = env_int("SELFKIND_ADDRESS_FAILURE_LIMIT", 15)
if not 1 <= AXES_FAILURE_LIMIT <= SELFKIND_ADDRESS_FAILURE_LIMIT:
    raise ImproperlyConfiguredEnv(
        "SELFKIND_ADDRESS_FAILURE_LIMIT must be at least AXES_FAILURE_LIMIT (and both above 0)"
    )
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "clinic.lockout.LockoutHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Sign-ins are recorded in Selfkind's own security log (clinic.SecurityEvent: no full user
# agent, a coarse address); axes keeps only its short-lived failure counters.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# Behind reverse proxies REMOTE_ADDR is the proxy's address: SELFKIND_PROXY_COUNT says how many
# trusted proxies append to X-Forwarded-For, so lockouts key on the real client address.
SELFKIND_PROXY_COUNT = env_int("SELFKIND_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"

# --- Two-factor sign-in (django-otp: authenticator apps, recovery codes; passkeys) ------------
# Staff of a clinic that requires it enrol after their password and reach nothing else until
# they have (clinic.middleware.SecondFactorMiddleware); clients may opt in.
OTP_TOTP_ISSUER = "Selfkind"
# The Django admin (superusers) lists devices, e.g. to remove a client's lost phone; never keys.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Passkeys are a second factor after the password, never a way round it.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_RP_NAME = "Selfkind"
# The relying party is the site's host name; passkeys need HTTPS (or http://localhost).
OTP_WEBAUTHN_RP_ID = env_str(
    "SELFKIND_WEBAUTHN_RP_ID", ALLOWED_HOSTS[0] if PRODUCTION else "localhost"
)
OTP_WEBAUTHN_ALLOWED_ORIGINS = env_list(
    "SELFKIND_WEBAUTHN_ORIGINS",
    [f"https://{host}" for host in ALLOWED_HOSTS if not host.startswith(".")]
    if PRODUCTION
    else ["http://localhost:8000"],
)

# --- Internationalisation ------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"  # storage; each clinic's own zone is activated per request
# Selfkind is written in British English and ships no translations, so the translation machinery
# is off: with it on, every date, number and month name a page formats looked up the active
# language, which cost a fifth of the dashboard's template time. Formats still follow en-gb.
USE_I18N = False
USE_TZ = True

# --- Static files (served by the app through whitenoise; no CDN) -----------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # plotly.js comes from the installed plotly package, as vendor/plotly/plotly.min.js only.
    "config.staticfinders.PlotlyFinder",
]
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Content-Security-Policy: nothing inline, nothing from another origin ----------------------
# No inline script and no inline style attribute anywhere. plotly.js inserts two <style>
# elements of fixed content (an empty one it fills through CSSOM, and MapLibre's rules): they are
# allowed by their exact hashes, which a test recomputes from the installed plotly.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, *PLOTLY_STYLE_HASHES],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# --- Transport security ----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# A balancer checks each app server over plain HTTP on its private address (config.health).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
if env_bool("SELFKIND_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Background tasks (Huey) -----------------------------------------------------------------
# The embedded default keeps the task queue in a SQLite file under var/ and needs nothing else;
# with REDIS_URL (required in production, see Cache) the queue lives in Redis, where any number
# of consumers on any number of machines take tasks. `make run` starts one consumer beside the
# web server; see docs/deployment.md.
if REDIS_URL:
    HUEY = {"huey_class": "huey.RedisHuey", "url": REDIS_URL}
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "filename": env_str("HUEY_SQLITE_FILE", str(BASE_DIR / "var" / "huey.sqlite3")),
    }
HUEY.update(
    name="selfkind",
    immediate=False,  # tests switch to immediate mode in tests/conftest.py
    results=False,  # nothing reads task results: the outbox row is the record
    utc=True,
    consumer={"workers": env_int("HUEY_WORKERS", 2), "worker_type": "thread"},
)

# --- Email: every message is an outbox row sent by a task (clinic.outbox) ---------------------
# Development without EMAIL_HOST writes each message to a file under var/mail/.
EMAIL_HOST = env_str("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "clinic.mail.SMTPBackend"  # Django's, recording the server's reply
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL)
    if EMAIL_USE_SSL and EMAIL_USE_TLS:
        raise ImproperlyConfiguredEnv("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true")
    EMAIL_PORT = env_int("EMAIL_PORT", 465 if EMAIL_USE_SSL else 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", "")
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
elif PRODUCTION:
    raise ImproperlyConfiguredEnv("EMAIL_HOST must be set in production (the SMTP server)")
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = BASE_DIR / "var" / "mail"
DEFAULT_FROM_EMAIL = env_str(
    "DEFAULT_FROM_EMAIL", "" if PRODUCTION else "Selfkind <selfkind@localhost>"
)
if not DEFAULT_FROM_EMAIL:
    raise ImproperlyConfiguredEnv("DEFAULT_FROM_EMAIL must be set in production")
# Links in emails are absolute: the address clients and staff reach the site at.
SELFKIND_BASE_URL = env_str(
    "SELFKIND_BASE_URL",
    f"https://{ALLOWED_HOSTS[0]}" if PRODUCTION else "http://127.0.0.1:8000",
).rstrip("/")
if not SELFKIND_BASE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfiguredEnv("SELFKIND_BASE_URL must start with https:// or http://")
# A consumer that claims an email holds it this long; if it dies, another sends it afterwards.
# Keep it well above the longest SMTP exchange (EMAIL_TIMEOUT applies to each step of one).
SELFKIND_OUTBOX_LEASE_SECONDS = env_int("SELFKIND_OUTBOX_LEASE_SECONDS", 600)
if SELFKIND_OUTBOX_LEASE_SECONDS < 1:
    raise ImproperlyConfiguredEnv("SELFKIND_OUTBOX_LEASE_SECONDS must be at least 1")
# Password-reset links are valid for an hour (invitation links: PASSWORD_RESET_TIMEOUT).
SELFKIND_RESET_LINK_SECONDS = 60 * 60

# --- Logging: no free text, tokens or passwords ----------------------------------------------
# Request logs carry only paths; paths under /t/ (one-time links) are redacted by a filter.
# Production writes one JSON object per line (LOG_FORMAT) and one record per request
# (SELFKIND_REQUEST_LOG, config.requestlog: method, path, route, status, duration, request id).
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfiguredEnv(f"LOG_FORMAT must be json or text, got {LOG_FORMAT!r}")
SELFKIND_REQUEST_LOG = env_bool("SELFKIND_REQUEST_LOG", PRODUCTION)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "config.logging.RedactSecretPathsFilter"}},
    "formatters": {"json": {"()": "config.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact_secrets"],
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # 403/404 answers are expected (scoped access); only server errors are logged here.
        # Security events (CSRF failures, bad hosts) still reach the django.security loggers.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "selfkind.request": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
