"""Settings for the influencer outreach CRM, read from environment variables.

Development needs nothing set: SQLite under var/, debug off unless DJANGO_DEBUG=1. Production
(DJANGO_ENV=production) refuses to start without SECRET_KEY, ALLOWED_HOSTS and ENCRYPTION_KEYS.
"""

import base64
import datetime
import hashlib
import json
import os
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR") or BASE_DIR / "var")

# The demo (`make run`) keeps its sandbox secrets in var/demo.env; real environment variables win,
# and production never reads it.
_demo_env = VAR_DIR / "demo.env"
if env_str("DJANGO_ENV", "development").lower() != "production" and _demo_env.is_file():
    for _line in _demo_env.read_text().splitlines():
        _name, _, _value = _line.partition("=")
        if _name.strip() and not _name.startswith("#"):
            os.environ.setdefault(_name.strip(), _value.strip())

ENVIRONMENT = env_str("DJANGO_ENV", "development").lower()
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be 'development' or 'production'; got {ENVIRONMENT!r}.")
PRODUCTION = ENVIRONMENT == "production"

DEBUG = env_bool("DJANGO_DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off when DJANGO_ENV=production.")

REQUIRED_IN_PRODUCTION = ("SECRET_KEY", "ALLOWED_HOSTS", "ENCRYPTION_KEYS", "PUBLIC_URL")
missing = [name for name in REQUIRED_IN_PRODUCTION if PRODUCTION and not env_str(name)]
if missing:
    raise ImproperlyConfigured("DJANGO_ENV=production needs these environment variables: " + ", ".join(missing) + ".")

# Outside production: a key `make run` wrote under var/ (so links signed by this server cannot be
# forged from the source code), else a fixed development key.
_local_secret = VAR_DIR / "secret.key"
SECRET_KEY = (
    env_str("SECRET_KEY")
    or (_local_secret.read_text().strip() if _local_secret.is_file() else "")
    or "dev-only-secret-key-not-for-production-use-0123456789"
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")


def _fernet_keys() -> list[str]:
    """Secrets at rest are encrypted with these keys, newest first; development derives one."""
    keys = env_list("ENCRYPTION_KEYS")
    local_key = VAR_DIR / "encryption.key"  # written once by `make run` for the demo
    if not keys and local_key.is_file():
        keys = [local_key.read_text().strip()]
    if not keys:
        digest = hashlib.sha256(("encryption:" + SECRET_KEY).encode()).digest()
        return [base64.urlsafe_b64encode(digest).decode()]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ImproperlyConfigured(
                f"ENCRYPTION_KEYS: key {position} is not a Fernet key (32 url-safe base64 bytes); "
                "make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            ) from None
    return keys


ENCRYPTION_KEYS = _fernet_keys()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_q",
    "axes",  # sign-in throttling and lockout (web/auth.py)
    "django_otp",
    "django_otp.plugins.otp_totp",  # optional TOTP second factor at sign-in
    "csp",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crm",
    "crm.api",
    "outreach",
    "web",
    "integrations",
]
if not PRODUCTION:
    INSTALLED_APPS.append("outreach.sandbox")  # the demo's imitation platforms (`manage.py sandbox`)

MIDDLEWARE = [
    "config.logcontext.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # The webhook receivers skip everything below: no user, CSRF check, messages or page headers.
    "config.endpoints.MachineEndpointMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "web.middleware.ReaderTimeZoneMiddleware",  # dates in the reader's time zone (the browser's tz cookie)
    "crm.api.idempotency.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = env_str("DJANGO_ROOT_URLCONF", "config.urls")  # the webhook benchmark adds a bare view
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
                "web.context_processors.access",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
try:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
except ValueError as error:
    raise ImproperlyConfigured(f"DATABASE_URL cannot be read: {error}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a writer instead of failing at once when a worker and the web server overlap.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: a page's queries are short, and compiling one costs more (0.2-0.4 s for a list
    # sorted over 100,000 creators, bench/pages.py) than it could ever save. And a server-side cursor
    # (`.iterator()`: CSV exports, launches) is read to its end, so plan it for all rows, not the first
    # 10% (a filtered export walked the name index row by row: 0.54 s instead of 0.06 s).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off -c cursor_tuple_fraction=1".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Sign-in security (web/auth.py; SECURITY.md) -------------------------------------------------------
# django-axes: the SignInBackend refuses a locked-out account + client before the password is checked.
AUTHENTICATION_BACKENDS = ["web.auth.SignInBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)  # failed sign-ins of one account from one client
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # per account and client: a stranger cannot lock you out
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "web.auth.lockout"  # the login page with the reason, status 429
AXES_CLIENT_IP_CALLABLE = "web.auth.client_ip"
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
# Behind a proxy that sets X-Forwarded-For (and strips a client's own), take the client from it.
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", False)
# Password-reset mails per hour: to one address, and requests from one client (counted in the cache).
PASSWORD_RESET_PER_ADDRESS = env_int("PASSWORD_RESET_PER_ADDRESS", 3)
PASSWORD_RESET_PER_CLIENT = env_int("PASSWORD_RESET_PER_CLIENT", 10)
OTP_TOTP_ISSUER = "Outreach CRM"
# Content-Security-Policy (django-csp): our own scripts and styles only; nothing inline, no eval, no
# framing. htmx runs under it with its indicator style and eval off (the htmx-config meta tag).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", NONCE],  # NONCE: only the standalone proof and unsubscribe pages' own <style>
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Creator import uploads wait here for a queue worker, which may run on another machine: with
    # several machines use a shared location (an NFS mount) or an object store, e.g. django-storages'
    # IMPORT_STORAGE_BACKEND=storages.backends.s3.S3Storage with IMPORT_STORAGE_OPTIONS='{"bucket_name": ...}'.
    "imports": {
        "BACKEND": env_str("IMPORT_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": json.loads(env_str("IMPORT_STORAGE_OPTIONS") or "{}") or {"location": str(VAR_DIR / "imports")},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Outside production, serve static files straight from the apps (no collectstatic step needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

# The pages' own sign-in; after it, the dashboard. Password reset emails go through EMAIL_BACKEND.
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "web:login"
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "outreach@localhost")

# Creator import: rows per database round trip; larger is faster and uses more memory.
IMPORT_BATCH_SIZE = env_int("IMPORT_BATCH_SIZE", 1000)
# An upload whose columns were never confirmed is deleted (file and job) after this many hours, by an
# hourly schedule or `manage.py clean_imports`; an import that ran keeps its report.
IMPORT_UPLOAD_TTL_HOURS = env_int("IMPORT_UPLOAD_TTL_HOURS", 24)
if IMPORT_UPLOAD_TTL_HOURS < 1:
    raise ImproperlyConfigured(f"IMPORT_UPLOAD_TTL_HOURS must be 1 or more; got {IMPORT_UPLOAD_TTL_HOURS}.")
# "Select all matching" on the creators list: a tag or campaign action on at most this many creators
# runs inside the request (about 6 s per 50,000 here); a larger set runs in the queue (web/bulk.py)
# and its page shows the progress.
BULK_INLINE_LIMIT = env_int("BULK_INLINE_LIMIT", 2000)
if BULK_INLINE_LIMIT < 0:
    raise ImproperlyConfigured(f"BULK_INLINE_LIMIT must be 0 or more; got {BULK_INLINE_LIMIT}.")
# A bulk job queued this long without starting, or running this long without finishing a batch, is
# queued again (every 5 minutes, web.bulk.resume_stalled_jobs); its claim makes a repeat harmless.
BULK_STALE_SECONDS = env_int("BULK_STALE_SECONDS", 300)
if BULK_STALE_SECONDS < 30:
    raise ImproperlyConfigured(f"BULK_STALE_SECONDS must be 30 or more; got {BULK_STALE_SECONDS}.")

# The REST API: token or session authentication, roles, filters, cursor pages, OpenAPI 3.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["crm.api.permissions.RolePermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "crm.api.filters.StrictFilterBackend",  # django-filter, refusing empty and malformed values
        "rest_framework.filters.OrderingFilter",  # `?ordering=`, over the fields each view names
    ],
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.StablePagination",
    "DEFAULT_SCHEMA_CLASS": "crm.api.schema.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON in, as out: no form semantics; nesting deeper than core.jsonbounds.MAX_DEPTH is a 400.
    "DEFAULT_PARSER_CLASSES": ["crm.api.parsers.BoundedJSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["crm.api.throttling.TokenRateThrottle"],
    "EXCEPTION_HANDLER": "crm.api.errors.api_exception_handler",
}
# Requests per API token (or signed-in user), e.g. "600/min"; empty turns throttling off.
API_RATE_LIMIT = env_str("API_RATE_LIMIT", "1200/min")
SPECTACULAR_SETTINGS = {
    "TITLE": "Outreach CRM API",
    "DESCRIPTION": "Creators, campaigns, UGC permissions and the consent ledger. "
    "Authenticate with `Authorization: Token <key>`.",
    "VERSION": "1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One clear name per choice set, for client generators.
    "ENUM_NAME_OVERRIDES": {
        "CreatorStatusEnum": "crm.models.Creator.Status",
        "CampaignStatusEnum": "crm.models.Campaign.Status",
        "PermissionStatusEnum": "crm.models.PermissionRequest.Status",
        "CreatorPlatformEnum": "crm.models.Platform",
        "SenderPlatformEnum": "outreach.models.SenderPlatform",
        "MessageStatusEnum": "outreach.models.OutreachMessage.Status",
        "DeliveryModeEnum": "outreach.models.OutreachMessage.DeliveryMode",
        "ReplyDecisionEnum": "outreach.api.serializers.DECISIONS",
        "RightsDecisionEnum": "outreach.api.serializers.RIGHTS_DECISIONS",
        "MailSecurityEnum": "outreach.models.MailSecurity",
    },
}

# Platform API hosts; tests and the sandbox point them at loopback. A sender account may override.
META_GRAPH_URL = env_str("META_GRAPH_URL", "https://graph.facebook.com").rstrip("/")
INSTAGRAM_GRAPH_URL = env_str("INSTAGRAM_GRAPH_URL", "https://graph.instagram.com").rstrip("/")
X_API_URL = env_str("X_API_URL", "https://api.x.com").rstrip("/")
TIKTOK_API_URL = env_str("TIKTOK_API_URL", "https://business-api.tiktok.com").rstrip("/")
# Webhook secrets: deliveries are refused while the provider's secret is not set.
META_APP_SECRET = env_str("META_APP_SECRET")
META_VERIFY_TOKEN = env_str("META_VERIFY_TOKEN")
X_CONSUMER_SECRET = env_str("X_CONSUMER_SECRET")
TIKTOK_APP_SECRET = env_str("TIKTOK_APP_SECRET")
EMAIL_WEBHOOK_SECRET = env_str("EMAIL_WEBHOOK_SECRET")
# Email authenticity (outreach/mail/trust.py): the authserv-ids of mail gateways whose
# Authentication-Results headers we believe (a mailbox's own IMAP server is trusted per account).
EMAIL_TRUSTED_AUTHSERV_IDS = env_list("EMAIL_TRUSTED_AUTHSERV_IDS")
# How many messages one mailbox fetch reads per folder (the rest wait for the next minute); how many
# days back a newly connected mailbox is read; a CA file to trust for IMAP over TLS (else the system's).
EMAIL_FETCH_BATCH = env_int("EMAIL_FETCH_BATCH", 200)
EMAIL_FETCH_FIRST_DAYS = env_int("EMAIL_FETCH_FIRST_DAYS", 14)
EMAIL_IMAP_CA_FILE = env_str("EMAIL_IMAP_CA_FILE")
EMAIL_IMAP_TIMEOUT = env_int("EMAIL_IMAP_TIMEOUT", 20)

# Outbound webhooks (integrations/): URLs that resolve to private, loopback or other non-public
# addresses are refused unless this is on (tests; a receiver on the same private network on purpose).
WEBHOOKS_ALLOW_PRIVATE_URLS = env_bool("WEBHOOKS_ALLOW_PRIVATE_URLS", False)

# Sender accounts given through the API or the pages may point at plain http:// only when this is on
# (the sandbox and tests on loopback); a platform is always reached over https otherwise.
ALLOW_INSECURE_PLATFORM_URLS = env_bool("ALLOW_INSECURE_PLATFORM_URLS", False)

# Where creators land when they click an email's unsubscribe link (this server's public address).
PUBLIC_URL = env_str("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

# Outreach policy: how long a creator rests after any contact from another campaign or teammate,
# how many messages one creator may get in 7 days, and the worker's claim size and lease.
OUTREACH_COOLDOWN_DAYS = env_int("OUTREACH_COOLDOWN_DAYS", 14)
OUTREACH_CREATOR_WEEKLY_CAP = env_int("OUTREACH_CREATOR_WEEKLY_CAP", 3)
OUTREACH_REQUIRE_CONTACT_CONSENT_COUNTRIES = [c.upper() for c in env_list("OUTREACH_REQUIRE_CONTACT_CONSENT_COUNTRIES")]
OUTREACH_CLAIM_BATCH = env_int("OUTREACH_CLAIM_BATCH", 100)
OUTREACH_MAX_ATTEMPTS = env_int("OUTREACH_MAX_ATTEMPTS", 5)
# A sending run hands back to the queue this often, so a stopping worker is never held for long.
OUTREACH_TASK_BUDGET_SECONDS = env_int("OUTREACH_TASK_BUDGET_SECONDS", 30)
PERMISSION_REQUEST_EXPIRY_DAYS = env_int("PERMISSION_REQUEST_EXPIRY_DAYS", 14)
# Seconds between two rights-request comments of one account (platforms flag bursts of comments as spam).
COMMENT_REQUEST_INTERVAL_SECONDS = env_int("COMMENT_REQUEST_INTERVAL_SECONDS", 300)
# Automatic replies say they are automatic (Messenger policy; California and German bot laws).
AUTO_REPLY_PREFIX = env_str("AUTO_REPLY_PREFIX", "[Automatic reply]")
AUTO_REPLY_FOLLOW_UP_HOURS = env_int("AUTO_REPLY_FOLLOW_UP_HOURS", 4)

# The queue: django-q2 on the ORM broker, or Redis when REDIS_URL is set. Our own attempt counter
# decides retries (max_attempts 1 here); `timeout` stays below `retry` so a slow task is never
# handed to a second worker while it still runs; missed schedules are not caught up.
REDIS_URL = env_str("REDIS_URL")
# The cache holds the API's throttle counts: shared through Redis when there is one.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
Q_TIMEOUT = env_int("Q_TIMEOUT", 300)
Q_CLUSTER = {
    "name": "outreach",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": Q_TIMEOUT,
    "retry": Q_TIMEOUT + 60,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
    "poll": 0.5,
    "label": "Queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
# A claim is a short lease the sending worker renews (a heartbeat every third of it), so a message
# claimed by a dead worker is settled within about a lease plus a reaper period (outreach/worker.py).
OUTREACH_LEASE_SECONDS = env_int("OUTREACH_LEASE_SECONDS", 30)
OUTREACH_REAP_SECONDS = env_int("OUTREACH_REAP_SECONDS", 15)
# On SIGTERM a sending run waits at most this long for its calls in flight to answer (outreach/worker.py).
OUTREACH_STOP_GRACE_SECONDS = env_int("OUTREACH_STOP_GRACE_SECONDS", 10)
# Platform calls in flight at once per sending run (threads doing HTTP only; one database connection).
OUTREACH_SEND_CONCURRENCY = env_int("OUTREACH_SEND_CONCURRENCY", 64)
# The local address platform calls leave from (a machine with several; the scale-out test gives each
# simulated machine its own loopback address). Empty: the system chooses.
OUTREACH_SOURCE_ADDRESS = env_str("OUTREACH_SOURCE_ADDRESS")
# Where the per-account pacing lives, shared by all machines: "redis" (needs REDIS_URL) or "database".
# Pace at this share of each platform's per-second limit, so scheduling jitter never crosses it.
OUTREACH_RATE_HEADROOM = float(env_str("OUTREACH_RATE_HEADROOM", "0.9"))
OUTREACH_RATE_LIMITER = env_str("OUTREACH_RATE_LIMITER", "redis" if REDIS_URL else "database")

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("TRUST_X_FORWARDED_PROTO", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Every line names its request or queue task (config/logcontext.py); LOG_FORMAT=json for a log pipeline.
    "filters": {"context": {"()": "config.logcontext.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s task=%(task_id)s] %(message)s"},
        "json": {"()": "config.logcontext.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if env_str("LOG_FORMAT") == "json" else "plain",
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"mail.log": {"level": "WARNING"}, "axes": {"level": "WARNING"}},  # the SMTP sink and axes talk a lot
}
