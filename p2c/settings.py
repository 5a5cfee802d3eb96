"""p2c settings, twelve-factor: everything that differs between machines comes from the environment.

DATABASE_URL        default sqlite:///db.sqlite3 (WAL, busy timeout, immediate transactions)
SALES_DATABASE_URL  unset: Sales shares DATABASE_URL; set: the Sales app in a database of its own (p2c.databases)
CELERY_BROKER_URL   default kombu's filesystem:// transport under var/ (no server needed)
DJANGO_SECRET_KEY, DJANGO_DEBUG, DJANGO_ALLOWED_HOSTS
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("P2C_VAR_DIR", BASE_DIR / "var"))


def env_bool(name, default):
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", True)
# Without a configured key a development machine gets a fresh random one per process: sessions do not
# survive a restart, which is the price of never shipping a fixed secret. In production every process (web,
# workers) must share one key, so production settings refuse to start without it.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "").strip()
if not SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set. With DJANGO_DEBUG=false every process must share one secret key "
        "(sessions, password reset links): set DJANGO_SECRET_KEY, e.g. to the output of "
        "`python -c 'from django.core.management.utils import get_random_secret_key as k; print(k())'`."
    )
SECRET_KEY = SECRET_KEY or get_random_secret_key()
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
# Cookies are per host, not per port: two p2c on one machine (`make run-two`) name theirs apart, so that logging in
# to one does not log out of the other.
SESSION_COOKIE_NAME = os.environ.get("P2C_SESSION_COOKIE_NAME", "sessionid")
CSRF_COOKIE_NAME = os.environ.get("P2C_CSRF_COOKIE_NAME", "csrftoken")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    # Autodiscovered in p2c's ready(), which then replaces or hides some packages' admins (p2c.apps)
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "oauth2_provider",  # OAuth 2.0 client credentials for the Dataverse Web API (/o/token/)
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_celery_beat",
    "crm",
    "erp",
    "integration",
    "p2c",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session (a language chosen in the admin header is kept there) and before CommonMiddleware: every
    # request, the API's too, is answered in the language of the session, the cookie, or Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "p2c.api.middleware.ApiBodySizeMiddleware",
    "p2c.api.middleware.ApiQueryTextMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "p2c.urls"
WSGI_APPLICATION = "p2c.wsgi.application"

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
                "p2c.context_processors.admin_index",
            ],
        },
    },
]

def database_from_url(url, *, test_name_env):
    """A DATABASES entry from a URL (dj-database-url); SQLite gets WAL, a busy timeout and immediate transactions."""
    database = dj_database_url.parse(url, conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")))
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database["ENGINE"] = "p2c.sqlite3"  # Django's backend with SQLite's real parameter limit
        database["OPTIONS"] = {
            # Immediate transactions take the write lock up front, so two writers queue on the busy
            # timeout instead of failing when one upgrades a read lock.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        # In memory unless named (spelt out, as pytest-xdist gives each worker its own test database by name).
        database["TEST"] = {"NAME": os.environ.get(test_name_env) or ":memory:"}
    elif database["ENGINE"] == "django.db.backends.postgresql":
        database["ENGINE"] = "p2c.postgresql"  # Django's backend reading date-times with psycopg's C loader
    return database


DATABASES = {
    "default": database_from_url(os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
                                 test_name_env="P2C_TEST_SQLITE_NAME"),
}
# Sales in a database of its own (p2c.databases): the ERP, the integration, auth and beat stay in default.
if os.environ.get("SALES_DATABASE_URL", "").strip():
    DATABASES["sales"] = database_from_url(os.environ["SALES_DATABASE_URL"].strip(),
                                           test_name_env="P2C_TEST_SALES_SQLITE_NAME")
DATABASE_ROUTERS = ["p2c.databases.SalesRouter"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The language of a request whose browser asks for none of LANGUAGES, and of everything written outside a request:
# management commands' help and output, Celery tasks' job and error messages (stored as written). P2C_LANGUAGE
# chooses it (en, fr, sv or nl), e.g. `P2C_LANGUAGE=fr manage.py sync --all`; tests keep English.
LANGUAGE_CODE = os.environ.get("P2C_LANGUAGE", "en")
LANGUAGES = [
    ("en", "English"),
    ("fr", "Français"),
    ("sv", "Svenska"),
    ("nl", "Nederlands"),
]
# The catalogues: locale/<lang>/LC_MESSAGES/django.po, compiled .mo files committed beside them (see README).
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Admin changelists of 100,000 rows: count estimates would be nice, but exact counts are what users trust.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REST_FRAMEWORK = {
    # The token first: its scheme makes a missing or invalid credential a 401 with ``WWW-Authenticate: Token``
    # (with the session first DRF answered 403). A request without a token still signs in with its session (the
    # browsable API, the docs), CSRF-checked on unsafe methods; an invalid token is refused, whatever the session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Bodies whose text can be stored (no lone surrogates, no NUL: p2c.text): anything else is a 400 at the parser.
    "DEFAULT_PARSER_CLASSES": [
        "p2c.api.parsers.JSONParser",
        "p2c.api.parsers.FormParser",
        "p2c.api.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "p2c.api.filters.StrictFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "p2c.api.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "p2c.api.pagination.PagePagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "p2c.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "p2c API",
    "DESCRIPTION": "Sales CRM and ERP records, and the integration that keeps them in step.",
    "VERSION": "1.0.0",
    # The schema and the docs are for signed-in users and API clients, like everything under /api/.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from the drf-spectacular-sidecar package: the docs page needs no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set where several models share a field name ("type", "state_code").
    "ENUM_NAME_OVERRIDES": {
        "SynchronizeDirectionEnum": "integration.api.mapping_serializers.DIRECTION_CHOICES",
        "IntegrationDirectionEnum": "integration.models.Direction",
        "CrmStateCodeEnum": "crm.models.StateCode",
        "CrmProductStateEnum": "crm.models.Product.State",
        "CrmOpportunityStateEnum": "crm.models.Opportunity.State",
        "CrmQuoteStateEnum": "crm.models.Quote.State",
        "CrmSalesOrderStateEnum": "crm.models.SalesOrder.State",
        "CrmInvoiceStateEnum": "crm.models.Invoice.State",
        "CrmFreightTermsEnum": "crm.models.Account.FreightTerms",
        "CrmShippingMethodEnum": "crm.models.Account.ShippingMethod",
        "ErpContactTypeEnum": "erp.models.Contact.Type",
        "ErpItemTypeEnum": "erp.models.Item.Type",
        "ErpResourceTypeEnum": "erp.models.Resource.Type",
        "ErpSalesLineTypeEnum": "erp.models.SalesLineFields.Type",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "p2c.api.schema.postprocess_error_responses",
        "p2c.api.schema.postprocess_query_parameters",
        "p2c.api.schema.postprocess_links",
    ],
}

# Celery: the embedded default needs no server (kombu's filesystem transport under var/).
CELERY_BROKER_DIR = VAR_DIR / "celery-broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "out"),
        "data_folder_out": str(CELERY_BROKER_DIR / "out"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://", "sqs://")):
    # Tasks are acknowledged late: a message whose worker died (killed, machine lost) is delivered again once it
    # has been unacknowledged this long. Tasks are idempotent, so a long task delivered twice does nothing twice;
    # the periodic check (integration.close_stopped_runs) queues the work of a dead worker again within a minute.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "900"))}
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # a task whose worker process died goes back to the queue
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# django-celery-beat's database scheduler, writing beat's heartbeat (the health page: integration/health/heartbeats.py).
CELERY_BEAT_SCHEDULER = "integration.health.heartbeats:BeatScheduler"
# Installed in django-celery-beat's table by the scheduler when beat starts (`make run`'s worker runs it).
# The key that keeps stored secrets encrypted (the Sales connection's client secret; p2c.sealing): any text, the
# same for every process of this instance. Unset: var/secrets.key, made once (back it up with the database). Not
# DJANGO_SECRET_KEY, random per process on a development machine, which would leave a stored secret unreadable.
P2C_SECRETS_KEY = os.environ.get("P2C_SECRETS_KEY", "").strip()
# Seconds between two polls of the changes of a Sales reached over the Web API (near-real-time from Sales: its writes
# raise no signal here; integration.background.realtime.sales_changes_poll). A settled poll costs one request.
P2C_SALES_POLL_SECONDS = float(os.environ.get("P2C_SALES_POLL_SECONDS", "5"))
# Seconds a near-real-time synchronisation waits after the change that asked for it, so that the changes of those
# seconds go in the same run (integration.background.realtime; a run that finds more noted enqueues the next after it).
P2C_REALTIME_DELAY_SECONDS = float(os.environ.get("P2C_REALTIME_DELAY_SECONDS", "2"))
# Task names as declared in integration/task_names.py (which p2c may not import; a test checks they are declared).
CELERY_BEAT_SCHEDULE = {
    "Close runs whose process stopped": {"task": "integration.close_stopped_runs", "schedule": 60.0},
    # A poll not started by the next one's time is dropped: polls never pile up behind a slow Sales
    "Poll the changes of a Sales over the Web API": {"task": "integration.sales_changes_poll",
                                                     "schedule": P2C_SALES_POLL_SECONDS,
                                                     "options": {"expires": P2C_SALES_POLL_SECONDS}},
}

# E-mail (the integration's alerts: integration/health/alerts.py): Django's settings from the environment; without
# them the console backend prints each message to the process's output.
EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("DJANGO_EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "p2c@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# How many source rows the synchronisation engine handles per chunk (one transaction each). Each chunk costs a commit
# (on PostgreSQL a WAL flush: some 10 ms) and a dozen statements; at 1000 rows that was a quarter of a first load's
# time on PostgreSQL and a tenth on SQLite (docs/decisions.md#write-paths), at 5000 little, for some 30 MiB more held
# while it runs.
P2C_SYNC_CHUNK_SIZE = int(os.environ.get("P2C_SYNC_CHUNK_SIZE", "5000"))
# On PostgreSQL, a chunk of new rows is written and committed by a thread of its own while the run reads and
# decides the next one (integration/engine/write_behind.py); false: one chunk at a time.
P2C_SYNC_WRITE_BEHIND = env_bool("P2C_SYNC_WRITE_BEHIND", True)
# A full (or large incremental) run of one mapping splits into key-range partitions of about this many source rows,
# claimed and run by as many workers as P2C_SYNC_WORKERS says (1: one process, no partitions;
# integration/full_sync/partitions.py).
P2C_SYNC_PARTITION_SIZE = int(os.environ.get("P2C_SYNC_PARTITION_SIZE", "5000"))
P2C_SYNC_WORKERS = int(os.environ.get("P2C_SYNC_WORKERS", "1"))

# The Django cache: per process by default; P2C_CACHE_URL=redis://host:6379/N shares it between processes and
# machines (then the Sales Web API's Retry-After and request budget hold for every worker together).
if os.environ.get("P2C_CACHE_URL", "").strip():
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ["P2C_CACHE_URL"].strip()}}

# Sales reached over the Dataverse Web API (integration/engine/sides/dataverse.py) rather than in this database:
# SALES_API_URL set. The environment wins over these settings (integration.engine.sides.dataverse_http.configured).
SALES_API_URL = os.environ.get("SALES_API_URL", "")
SALES_API_TOKEN_URL = os.environ.get("SALES_API_TOKEN_URL", "")  # a token endpoint (client credentials), or
SALES_API_TENANT_ID = os.environ.get("SALES_API_TENANT_ID", "")  # Microsoft Entra ID's tenant (msal)
SALES_API_CLIENT_ID = os.environ.get("SALES_API_CLIENT_ID", "")
SALES_API_CLIENT_SECRET = os.environ.get("SALES_API_CLIENT_SECRET", "")

# The Dataverse Web API of Sales (crm/dataverse, /api/data/v9.2/): Dataverse's defaults. Service protection per login:
# requests in a sliding window and requests in flight; past either, 429 with Retry-After.
DATAVERSE_LIMIT_REQUESTS = int(os.environ.get("P2C_DATAVERSE_LIMIT_REQUESTS", "6000"))
DATAVERSE_LIMIT_WINDOW_SECONDS = int(os.environ.get("P2C_DATAVERSE_LIMIT_WINDOW_SECONDS", "300"))
DATAVERSE_LIMIT_CONCURRENT = int(os.environ.get("P2C_DATAVERSE_LIMIT_CONCURRENT", "52"))
# How long a delta token of change tracking is honoured (Dataverse's organisation setting, 7 days by default;
# at most the Sales deletion log's retention, 30 days).
DATAVERSE_CHANGE_TRACKING_RETENTION_DAYS = int(os.environ.get("P2C_DATAVERSE_CHANGE_TRACKING_RETENTION_DAYS", "7"))
# Bounds of a $filter (docs/decisions.md#bounded-and-total-doors asks the same of every door): its length in characters
# and its nesting depth.
DATAVERSE_FILTER_MAX_LENGTH = int(os.environ.get("P2C_DATAVERSE_FILTER_MAX_LENGTH", "8000"))
DATAVERSE_FILTER_MAX_DEPTH = int(os.environ.get("P2C_DATAVERSE_FILTER_MAX_DEPTH", "40"))
# Access tokens of /o/token/ (django-oauth-toolkit): an hour, as Microsoft Entra ID's.
# RFC 9700 (the OAuth 2.0 security best practice) throughout: tokens stored hashed, none in URLs, https redirects.
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "SCOPES": {"read": "Read", "write": "Write"},
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    # Any Authorization header is refused (401), never an exception (docs/decisions.md#bounded-and-total-doors: Basic
    # with non-ASCII was a 500).
    "OAUTH2_VALIDATOR_CLASS": "p2c.oauth_validator.TotalOAuth2Validator",
}
# What a configuration file (integration_import, the admin's import, POST /api/integration/configuration/import/)
# may hold before it is refused unread (docs/decisions.md#bounded-and-total-doors): the largest file in bytes (today's
# largest real export is about 60 KB), the most YAML nodes counting each alias as the nodes it stands for (counted while
# the file is read, never expanded), the most aliases, and the errors gathered before reading stops.
P2C_CONFIGURATION_MAX_BYTES = int(os.environ.get("P2C_CONFIGURATION_MAX_BYTES", str(2 * 1024 * 1024)))
P2C_CONFIGURATION_MAX_NODES = int(os.environ.get("P2C_CONFIGURATION_MAX_NODES", "1000000"))
P2C_CONFIGURATION_MAX_ALIASES = int(os.environ.get("P2C_CONFIGURATION_MAX_ALIASES", "100"))
P2C_CONFIGURATION_MAX_ERRORS = int(os.environ.get("P2C_CONFIGURATION_MAX_ERRORS", "50"))
# API paths whose body has a limit of its own (the setting naming it) rather than DATA_UPLOAD_MAX_MEMORY_SIZE, told
# in a 413 by p2c.api.middleware before the body is read (p2c.limits.size_check).
P2C_API_BODY_LIMITS = {"/api/integration/configuration/import/": "P2C_CONFIGURATION_MAX_BYTES"}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"p2c": {"handlers": ["console"], "level": os.environ.get("P2C_LOG_LEVEL", "INFO")}},
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    X_FRAME_OPTIONS = "DENY"
