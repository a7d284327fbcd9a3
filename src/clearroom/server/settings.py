"""Django settings, derived entirely from :mod:`clearroom.server.config` (TOML + environment)."""

from __future__ import annotations

import dj_database_url

from clearroom.server.config import load_config

CONFIG = load_config()
CONFIG.data_dir.mkdir(parents=True, exist_ok=True)

SECRET_KEY = CONFIG.effective_secret_key()
DEBUG = CONFIG.debug
ALLOWED_HOSTS = list(CONFIG.allowed_hosts)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs page's Swagger UI from the package, not from a CDN
    "clearroom.server.accounts",
    "clearroom.server.catalog",
    "clearroom.server.audit",
    "clearroom.server.transparency",
    "clearroom.server.attestations",
    "clearroom.server.vulnerabilities",
    "clearroom.server.notifications",
    "clearroom.server.collaboration",
    "clearroom.server.standards",
    "clearroom.server.portal",
    "clearroom.server.pagecache",
    "clearroom.jobs",
]
if CONFIG.jobs_backend == "procrastinate":
    INSTALLED_APPS.append("procrastinate.contrib.django")

MIDDLEWARE = [
    "clearroom.server.ops.middleware.RequestContextMiddleware",
    "clearroom.server.multipart.RawFileNames",  # before anything parses a form
    "django.middleware.security.SecurityMiddleware",
    "clearroom.server.ops.headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "clearroom.server.portal.account.SecondFactorRequired",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "clearroom.server.urls"
WSGI_APPLICATION = "clearroom.server.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clearroom.server.portal.context.site",
            ],
        },
    },
]

if CONFIG.is_postgres:
    DATABASES = {"default": dj_database_url.parse(CONFIG.database_url, conn_max_age=60)}
else:
    # Embedded default: WAL lets readers run beside the one writer; BEGIN IMMEDIATE takes the
    # write lock at the start of a transaction, so a read-then-write never fails with
    # SQLITE_BUSY half-way (busy_timeout only helps when the lock is requested up front);
    # synchronous=FULL so that nothing acknowledged is lost if the machine loses power.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(CONFIG.sqlite_path),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    f"PRAGMA busy_timeout={CONFIG.sqlite_busy_timeout_ms};"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA synchronous=FULL;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2id for new and changed passwords (OWASP's first choice); older hashes still verify and
# are upgraded at the next sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# The portal's few static files are served by WhiteNoise straight from the package, so
# `clearroom serve` needs no collectstatic step and no separate file server.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Artifacts stream into the blob store through clearroom.server.catalog.uploads (the API sets
# that handler itself); the portal's forms keep small files in memory, bounded per request,
# and nothing is ever buffered in temporary files.
FILE_UPLOAD_HANDLERS = ["clearroom.server.portal.uploads.BoundedMemoryUploadHandler"]
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 0

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if CONFIG.base_url.startswith("https://"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = [CONFIG.base_url]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "clearroom.server.ops.logging.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "clearroom.server.ops.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": CONFIG.log_format,
            "filters": ["request"],
        }
    },
    "root": {"handlers": ["console"], "level": CONFIG.log_level},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}

if not CONFIG.is_postgres:
    # A file, not Django's in-memory default, so worker subprocesses started by tests see it.
    DATABASES["default"]["TEST"] = {"NAME": str(CONFIG.data_dir / "test.sqlite3")}
