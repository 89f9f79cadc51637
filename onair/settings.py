"""OnAir settings, read from the environment in this one place.

Every variable has an embedded default, so a fresh machine runs with nothing set:
SQLite, the in-process channel layer, a Celery broker on SQLite, and the X emulator.
Production sets DATABASE_URL, REDIS_URL, SECRET_KEY, DEBUG=0, ALLOWED_HOSTS, PUBLIC_URL
(`manage.py check --deploy` refuses what a deployment must not keep: onair/checks.py).
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    value = os.environ.get(name, "")
    return value if value != "" else default


def env_bool(name, default=False):
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=()):
    value = env(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


# Writable state of the embedded mode: SQLite files, the dev secret key, beat schedule.
VAR_DIR = Path(env("ONAIR_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# `make run` sets ONAIR_LOCAL_RUN=1: someone trying OnAir on this machine over plain http.
# They should meet what a user meets (DEBUG off: OnAir's own error pages, whitenoise), yet
# with nothing to configure; `DEBUG=1 make run` brings Django's technical pages back.
LOCAL_RUN = env_bool("ONAIR_LOCAL_RUN", default=False)
DEBUG = env_bool("DEBUG", default=not LOCAL_RUN)
# Development or a local run: the dev secret-key file, loopback hosts, no TLS demands.
# A deployment (DEBUG off, no ONAIR_LOCAL_RUN) must configure all of these itself.
EMBEDDED = DEBUG or LOCAL_RUN


def _secret_key():
    key = env("SECRET_KEY")
    if key:
        return key
    if not EMBEDDED:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (`make run` sets ONAIR_LOCAL_RUN=1 "
            "for a local try, which keeps a generated key in ONAIR_VAR_DIR)."
        )
    # Development only: generate once, keep in an ignored file so sessions survive restarts.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if EMBEDDED else [])
# The port `make run` serves on (Makefile, Procfile.dev). Unset PUBLIC_URL follows it, so
# the links posted to X, og:url, og:image and the CSP all name the port really served.
WEB_PORT = int(env("WEB_PORT", 8000))
# The address people and X reach OnAir at. A deployment must set it (onair.E001).
PUBLIC_URL = env("PUBLIC_URL", f"http://127.0.0.1:{WEB_PORT}").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [PUBLIC_URL])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "onair.apps.OnAirConfig",
    "channels",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    # Loads the X provider; SOCIALACCOUNT_PROVIDERS swaps in accounts.x_provider's class.
    "allauth.socialaccount.providers.twitter_oauth2",
    "accounts",
    "broadcast",
    "chat",
    "safety",
    "xemulator",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

# The X emulator runs as its own process (xemulator/asgi.py) with its own URLconf, at
# X's real paths, so that the app reaches it over real HTTP exactly as it reaches X.
ROOT_URLCONF = env("ONAIR_URLCONF", "onair.urls")
ASGI_APPLICATION = "onair.asgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "safety.context_processors.moderation_notices",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'onair.sqlite3'}"), conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web, worker and beat processes read while one writes; IMMEDIATE
    # transactions take the write lock up front instead of failing on upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not :memory:, so server and worker processes started by tests share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-onair.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Redis: channel layer, cache, Celery ----------------------------------------------
REDIS_URL = env("REDIS_URL")

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env("CHANNEL_PREFIX", "onair")},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_PREFIX", "onair"),
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # Shared by web, worker and beat processes, unlike the local-memory cache.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "onair_cache",
        }
    }

CELERY_BROKER_URL = env(
    "CELERY_BROKER_URL",
    REDIS_URL or f"sqlite-broker+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}",
)
CELERY_RESULT_BACKEND = env(
    "CELERY_RESULT_BACKEND", REDIS_URL or f"db+sqlite:///{VAR_DIR / 'celery-results.sqlite3'}"
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "onair.tasks.beat_heartbeat", "schedule": 10.0},
    "end-idle-broadcasts": {"task": "broadcast.end_idle_broadcasts", "schedule": 10.0},
    "sweep-x-posts": {"task": "broadcast.sweep_x_posts", "schedule": 15.0},
    # Daily, at a quiet hour (UTC): the retention purge (safety/retention.py).
    "purge-expired": {"task": "safety.purge_expired", "schedule": crontab(hour=3, minute=30)},
    # Deleted accounts whose posts on X or legal holds kept the emptied row (accounts/).
    "sweep-deleted-accounts": {"task": "accounts.sweep_deleted_accounts", "schedule": 3600.0},
}

# --- Media (broadcast/hub.py, broadcast/services.py) ------------------------------------
# Seconds without media before a live broadcast ends as "broadcaster disconnected".
BROADCAST_IDLE_TIMEOUT = int(env("BROADCAST_IDLE_TIMEOUT", 30))
# Prefix of the hub's Redis keys and pub/sub channels (Redis mode).
MEDIA_REDIS_PREFIX = env("MEDIA_REDIS_PREFIX", "onair:media")
# Open watch sockets per client IP address, over every process (refused with 4429).
MEDIA_MAX_WATCH_PER_IP = int(env("MEDIA_MAX_WATCH_PER_IP", 20))

# --- Safety (safety/) ------------------------------------------------------------------
# A broadcast reported by more than this many distinct reporters alerts staff at once
# (a signed-in reporter counts 1; all anonymous reports from one address count 1).
REPORT_ALERT_THRESHOLD = int(env("REPORT_ALERT_THRESHOLD", 3))
# Anonymous reports: per client address per hour, and per broadcast per hour.
REPORT_ANON_PER_ADDRESS_PER_HOUR = int(env("REPORT_ANON_PER_ADDRESS_PER_HOUR", 10))
REPORT_ANON_PER_BROADCAST_PER_HOUR = int(env("REPORT_ANON_PER_BROADCAST_PER_HOUR", 200))
# Reports per signed-in user per hour, and staff alert emails per hour over the site (past
# it, one notice, then none until the hour is over; the admin's counters show them all).
REPORT_PER_USER_PER_HOUR = int(env("REPORT_PER_USER_PER_HOUR", 30))
REPORT_ALERTS_PER_HOUR = int(env("REPORT_ALERTS_PER_HOUR", 60))
# Shown to whoever reports self-harm or suicide: where to find help now. The default is
# translated; a text set in the environment is shown as set.
SELF_HARM_HELP_TEXT = env(
    "SELF_HARM_HELP_TEXT",
    _(
        "If someone is in immediate danger, call your local emergency number (112 in Europe, "
        "911 in North America). You can also find a free, confidential helpline in your "
        "country at https://findahelpline.com."
    ),
)
# "One strike": how long a restriction from going live lasts unless staff choose.
RESTRICTION_DAYS = int(env("RESTRICTION_DAYS", 30))
# Legal hold after a report closes (child-safety reports are kept longer, as
# preservation rules for such reports require).
LEGAL_HOLD_DAYS = int(env("LEGAL_HOLD_DAYS", 90))
LEGAL_HOLD_CHILD_SAFETY_DAYS = int(env("LEGAL_HOLD_CHILD_SAFETY_DAYS", 365))
# Retention: ended broadcasts with their chat and X-post records; reports and audit rows.
RETENTION_DAYS = int(env("RETENTION_DAYS", 14))
REPORT_RETENTION_DAYS = int(env("REPORT_RETENTION_DAYS", 180))
PURGE_BATCH_SIZE = int(env("PURGE_BATCH_SIZE", 2000))
# Live thumbnails: one keyframe decoded per live broadcast every this many seconds.
THUMBNAIL_EVERY_S = float(env("THUMBNAIL_EVERY_S", 10))

# Staff alerts (urgent reports) go to ADMINS by Django mail, sent by Celery.
# ADMINS="Ana <ana@example.org>,ops@example.org"
ADMINS = [
    (item.split("<")[0].strip() or item, item.split("<")[-1].rstrip(">").strip())
    for item in env_list("ADMINS")
]
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", 25))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "OnAir <onair@localhost>")
SERVER_EMAIL = env("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_SUBJECT_PREFIX = env("EMAIL_SUBJECT_PREFIX", "[OnAir] ")
# Only read by the file backend (EMAIL_BACKEND=django.core.mail.backends.filebased...).
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))

# --- X (Twitter) ----------------------------------------------------------------------
# With X_CLIENT_ID/X_CLIENT_SECRET set, real X is used and the emulator is off. Without
# them, the bundled emulator (`xemulator`, its own process on X_EMULATOR_PORT) stands in.
X_CLIENT_ID = env("X_CLIENT_ID")
X_CLIENT_SECRET = env("X_CLIENT_SECRET")
XEMULATOR_ENABLED = not X_CLIENT_ID and env_bool("XEMULATOR_ENABLED", default=True)
X_EMULATOR_PORT = int(env("X_EMULATOR_PORT", 8001))
_emulator_base = f"http://127.0.0.1:{X_EMULATOR_PORT}"
X_AUTH_BASE = env("X_AUTH_BASE", _emulator_base if XEMULATOR_ENABLED else "https://x.com").rstrip(
    "/"
)
X_API_BASE = env("X_API_BASE", _emulator_base if XEMULATOR_ENABLED else "https://api.x.com").rstrip(
    "/"
)
if XEMULATOR_ENABLED:
    # The emulator's own registered client: development credentials, not a secret.
    X_CLIENT_ID = env("XEMULATOR_CLIENT_ID", "onair-dev-client")
    X_CLIENT_SECRET = env("XEMULATOR_CLIENT_SECRET", "onair-dev-secret")
X_SCOPES = ["tweet.read", "users.read", "tweet.write", "offline.access"]
X_HTTP_TIMEOUT = float(env("X_HTTP_TIMEOUT", 10))
X_DAILY_POST_CAP = int(env("X_DAILY_POST_CAP", 500))
# Go-live posts one user may have made (or queued) in the last hour.
X_USER_POSTS_PER_HOUR = int(env("X_USER_POSTS_PER_HOUR", 6))
# Posting retries: backoff base, how long a post may keep trying, when a `posting` record
# is presumed abandoned by a dead worker (longer than any one attempt can last).
X_POST_RETRY_BASE_S = float(env("X_POST_RETRY_BASE_S", 1.0))
X_POST_DEADLINE_S = float(env("X_POST_DEADLINE_S", 600))
X_POST_STALE_S = float(env("X_POST_STALE_S", 3 * X_HTTP_TIMEOUT + 5))
# Deleting a post from X keeps retrying (X down, rate limits) this long after it was asked,
# then shows staff "could not delete".
X_POST_DELETE_DEADLINE_S = float(env("X_POST_DELETE_DEADLINE_S", 24 * 3600))

# --- Auth -----------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
# X is the only sign-in for users (Django admin keeps its own login for staff).
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.XSocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
# allauth names users in its messages ("Signed in as @ada"), never by the internal username.
ACCOUNT_USER_DISPLAY = "accounts.adapters.user_display"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_REQUIRED = False
SOCIALACCOUNT_QUERY_EMAIL = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = True
SOCIALACCOUNT_REQUESTS_TIMEOUT = X_HTTP_TIMEOUT
SOCIALACCOUNT_PROVIDERS = {
    "twitter_oauth2": {
        "provider_class": "accounts.x_provider.provider.XProvider",
        "SCOPE": X_SCOPES,
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [{"client_id": X_CLIENT_ID or "", "secret": X_CLIENT_SECRET or ""}],
    }
}
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- i18n -----------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static files (served by whitenoise, never a CDN) --------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", default=not EMBEDDED)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Whitenoise serves static/ straight from the finders, so `make run` needs no
# collectstatic (a deployment runs it for the hashed, compressed manifest files), and in
# development or a local run it looks again on each request so edited files show.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", default=True)
WHITENOISE_AUTOREFRESH = env_bool("WHITENOISE_AUTOREFRESH", default=EMBEDDED)

# --- Security -------------------------------------------------------------------------
# A local run is plain http on the loopback address: no TLS redirect, HSTS or secure cookies.
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", 0 if EMBEDDED else 31536000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not EMBEDDED)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not EMBEDDED)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not EMBEDDED)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not EMBEDDED)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not EMBEDDED)
# A refused form (stale page, cookies off) gets OnAir's 403 page, not Django's; the X
# emulator's process (its own URLconf, none of OnAir's pages) keeps Django's.
if ROOT_URLCONF == "onair.urls":
    CSRF_FAILURE_VIEW = "onair.views.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # X serves avatars over https; the emulator serves them from its own origin.
        "img-src": ["'self'", "data:", "https:", *([X_API_BASE] if XEMULATOR_ENABLED else [])],
        "media-src": ["'self'", "blob:"],
        # Our own WebSockets only ('self' covers ws/wss of this origin in current browsers;
        # the explicit origin is for those that do not).
        "connect-src": ["'self'", PUBLIC_URL.replace("http", "ws", 1)],
        "frame-ancestors": ["'none'"],
        # Signing in with X submits a form that redirects to X's authorize page.
        "form-action": ["'self'", X_AUTH_BASE],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Logging: tracebacks go to the log, never to users --------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
