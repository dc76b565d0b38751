"""Casebook settings, driven by the environment.

The defaults are the embedded setup of ``make run``: SQLite under ``var/``, Celery tasks run
eagerly in-process, the SQLite search backend. Production sets ``CASEBOOK_DEBUG=0`` and
``DATABASE_URL``, ``CELERY_BROKER_URL``, ``CASEBOOK_SECRET_KEY`` and ``CASEBOOK_ALLOWED_HOSTS``.
"""

import datetime
import importlib.util
import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CASEBOOK_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("CASEBOOK_DEBUG", False)


def _secret_key() -> str:
    key = os.environ.get("CASEBOOK_SECRET_KEY", "")
    if key:
        return key
    # A development installation keeps a random key under var/ so sessions survive restarts;
    # production must set one (checked in casebook.checks).
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("CASEBOOK_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CASEBOOK_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "guardian",
    "simple_history",
    # Two-factor sign-in (TOTP and recovery codes) and sign-in lockout: casebook.signin.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "casebook",
    "casebook.signin",
    "cases",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "casebook.access.AccessLogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle sessions end; a signed-in member proves the second factor before anything else.
    "casebook.signin.middleware.IdleSessionMiddleware",
    "casebook.signin.middleware.TwoFactorMiddleware",
    # A member whose password somebody else chose changes it before anything else.
    "casebook.accounts.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "casebook.middleware.SecurityHeadersMiddleware",
    # Turns a locked-out sign-in into casebook.signin's lockout page; last, as axes asks.
    "axes.middleware.AxesMiddleware",
]

# Reverse proxies in front of Casebook whose X-Forwarded-For is trusted for the client address
# in the access log; 0 (direct connections) uses REMOTE_ADDR only.
CASEBOOK_TRUSTED_PROXY_COUNT = int(os.environ.get("CASEBOOK_TRUSTED_PROXY_COUNT", "0"))

ROOT_URLCONF = "casebook.urls"
WSGI_APPLICATION = "casebook.wsgi.application"

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
                "django.template.context_processors.i18n",
                "casebook.context_processors.membership",
                "casebook.signin.views.two_factor_banner",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'casebook.sqlite3'}",
        conn_max_age=int(os.environ.get("CASEBOOK_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while a seed or a task writes; IMMEDIATE avoids the
    # "database is locked" upgrade deadlock between two writers.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses any sign-in of a locked-out account or address before a password is
    # checked (casebook.signin.lockout).
    "axes.backends.AxesStandaloneBackend",
    "casebook.auth.PasswordBackend",
    "casebook.auth.RolePermissionBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Guardian's anonymous user would be a principal that can hold grants; Casebook has none.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise serves from here after collectstatic, and from the finders in development.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Bootstrap ships inside the bootstrap-wrapper wheel; Casebook serves it itself because many
# of its networks have no internet access.
_bootstrap = importlib.util.find_spec("bootstrap")
STATICFILES_DIRS: list[Path | tuple[str, str]] = [BASE_DIR / "casebook" / "static"]
if _bootstrap and _bootstrap.submodule_search_locations:
    STATICFILES_DIRS.append(("bootstrap", list(_bootstrap.submodule_search_locations)[0]))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Evidence is never served as static media: downloads go through a permission-checked view.
MEDIA_ROOT = Path(os.environ.get("CASEBOOK_MEDIA_ROOT", VAR_DIR / "evidence"))
MEDIA_URL = "/media-not-served/"
EVIDENCE_MAX_BYTES = int(os.environ.get("CASEBOOK_EVIDENCE_MAX_BYTES", str(50 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Security defaults; the HTTPS-only ones switch on with DEBUG off.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(os.environ.get("CASEBOOK_SESSION_SECONDS", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# A session also ends after this long without a request (casebook.signin.middleware).
CASEBOOK_SESSION_IDLE_SECONDS = int(os.environ.get("CASEBOOK_SESSION_IDLE_SECONDS", "1800"))

# Two-factor sign-in (casebook.signin): always required with DEBUG off; under DEBUG (the demo
# of ``make run``) only when CASEBOOK_REQUIRE_2FA says so, and a banner says it is off.
CASEBOOK_REQUIRE_2FA = env_bool("CASEBOOK_REQUIRE_2FA", not DEBUG) or not DEBUG
OTP_TOTP_ISSUER = os.environ.get("CASEBOOK_OTP_ISSUER", "Casebook")
# Sign-in lockout (django-axes, database handler: no cache server needed). An account is
# locked after AXES_FAILURE_LIMIT failures from anywhere; a source address after its own,
# higher limit across all accounts. Both for AXES_COOLOFF_TIME, not extended by attempts
# made while locked.
AXES_HANDLER = "casebook.signin.lockout.SignInLockoutHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("CASEBOOK_SIGNIN_FAILURE_LIMIT", "5"))
CASEBOOK_SIGNIN_ADDRESS_FAILURE_LIMIT = int(
    os.environ.get("CASEBOOK_SIGNIN_ADDRESS_FAILURE_LIMIT", "20")
)
AXES_COOLOFF_TIME = datetime.timedelta(
    seconds=int(os.environ.get("CASEBOOK_SIGNIN_LOCKOUT_SECONDS", "1800"))
)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "casebook.signin.views.locked_out"
# The same client address as the access log (CASEBOOK_TRUSTED_PROXY_COUNT).
AXES_CLIENT_IP_CALLABLE = "casebook.access.client_address"
# Never stored with an attempt (axes keeps the form data of failed ones).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code", "csrfmiddlewaretoken"]
# Casebook's own access log records sign-ins; axes' would be a second copy.
AXES_DISABLE_ACCESS_LOG = True
# Unlocking is a supervisor's logged action (casebook.signin), not an admin page.
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
CSRF_COOKIE_HTTPONLY = True
# A failed CSRF check is a refused action: logged, and explained on a page of ours.
CSRF_FAILURE_VIEW = "casebook.access_views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("CASEBOOK_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("CASEBOOK_SECURE_COOKIES", True)
    # HTTPS only, by default: plain HTTP is redirected, and browsers are told (HSTS) to use
    # nothing else for a year, subdomains included. Opt out with CASEBOOK_SSL_REDIRECT=0 and
    # CASEBOOK_HSTS_SECONDS=0 (deploy/README.md). The test suite runs with DEBUG off over the
    # test client's plain HTTP: tests/conftest.py switches the redirect off for it.
    SECURE_SSL_REDIRECT = env_bool("CASEBOOK_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("CASEBOOK_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("CASEBOOK_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("CASEBOOK_HSTS_PRELOAD", True)
# X-Forwarded-Proto says whether the client spoke HTTPS to the proxy. Trusted only behind a
# trusted proxy (which sets it, overwriting the client's): the same rule as X-Forwarded-For
# for the client address (casebook.access.client_address). Without one, anybody could send
# it over plain HTTP and be taken for a secure request.
if CASEBOOK_TRUSTED_PROXY_COUNT > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Celery. Without a broker the embedded default runs tasks in-process, eagerly.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://"
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Expired shares already give no access (the selectors check expiry); this closes them
    # and notifies both agencies.
    "shares-expire": {"task": "cases.tasks.shares_expire_task", "schedule": 300.0},
    # Hit detection deferred by the hourly budgets below runs when there is room again.
    "hits-deferred": {"task": "cases.tasks.hits_deferred_task", "schedule": 300.0},
    # Case events left behind by a broker outage or a dead worker (cases.outbox.sweep).
    "events-sweep": {"task": "cases.tasks.events_sweep_task", "schedule": 60.0},
}
# Case events every subscriber has had are deleted after this many days (cases.outbox.sweep).
CASEBOOK_OUTBOX_RETENTION_DAYS = int(os.environ.get("CASEBOOK_OUTBOX_RETENTION_DAYS", "30"))

# Hit / no-hit noise control: a match key held by more distinct agencies than this (a bus
# company's switchboard, a shelter's address) is recorded as common and stops producing hits.
# Copies within one agency count once, so no agency can silence another's hits.
CASEBOOK_HIT_KEY_LIMIT = int(os.environ.get("CASEBOOK_HIT_KEY_LIMIT", "20"))
# Against hit/no-hit as a guessing oracle: the match keys one entity may have (its name and
# aliases), and the new keys detected per member and per agency in an hour (more are deferred
# to a later sweep, logged and notified to the agency). Counted in the database.
CASEBOOK_HIT_MAX_KEYS_PER_ENTITY = int(os.environ.get("CASEBOOK_HIT_MAX_KEYS_PER_ENTITY", "20"))
CASEBOOK_HIT_DETECT_MEMBER_PER_HOUR = int(
    os.environ.get("CASEBOOK_HIT_DETECT_MEMBER_PER_HOUR", "200")
)
CASEBOOK_HIT_DETECT_AGENCY_PER_HOUR = int(
    os.environ.get("CASEBOOK_HIT_DETECT_AGENCY_PER_HOUR", "1000")
)

SEARCH_BACKEND = os.environ.get("CASEBOOK_SEARCH_BACKEND", "sqlite")
ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL", "")

# The password of the demo users; seed_demo refuses to set it unless DEBUG is on.
DEMO_PASSWORD = os.environ.get("CASEBOOK_DEMO_PASSWORD", "casebook-demo-2026")
# Demo mode (only ever with DEBUG on, see casebook.accounts.demo_mode): the demo users keep
# the demo password and may skip what production requires of everyone.
CASEBOOK_DEMO_MODE = env_bool("CASEBOOK_DEMO_MODE", True)

# Accounts: members set their own passwords through one-time links sent by e-mail.
CASEBOOK_BASE_URL = os.environ.get("CASEBOOK_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
CASEBOOK_ENROLMENT_HOURS = int(os.environ.get("CASEBOOK_ENROLMENT_HOURS", "72"))
PASSWORD_RESET_TIMEOUT = int(os.environ.get("CASEBOOK_PASSWORD_RESET_SECONDS", str(2 * 3600)))
# URL names a member who must change their password may still open (besides the change
# page itself, sign-out and the password links); the sign-in steps belong here.
CASEBOOK_PASSWORD_CHANGE_EXEMPT_URLS: list[str] = [
    "signin:two_factor_verify",
    "signin:two_factor_setup",
]
EMAIL_BACKEND = os.environ.get(
    "CASEBOOK_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("CASEBOOK_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("CASEBOOK_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("CASEBOOK_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("CASEBOOK_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("CASEBOOK_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("CASEBOOK_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = os.environ.get("CASEBOOK_EMAIL_FROM", "casebook@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CASEBOOK_LOG_LEVEL", "WARNING")},
}
