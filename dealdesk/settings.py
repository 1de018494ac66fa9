"""Settings, read only from the environment (12-factor).

Defaults make a laptop work offline: SQLite under var/, tasks run in-process, console e-mail.
Production sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY, ALLOWED_HOSTS and friends.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A laptop keeps its own settings in .env (`make install` writes DEBUG=true there, so every
# manage.py command runs as the laptop it is); the real environment wins, and production has
# no such file.
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
# The fallback key only ever serves a laptop (DEBUG=true): sessions, password-reset links and
# signed values forged with a key anyone can read would pass, so production refuses to start.
LOCAL_ONLY_SECRET_KEY = "django-insecure-dealdesk-local-only-key"  # noqa: S105 - public on purpose
SECRET_KEY = env.str("SECRET_KEY", default=LOCAL_ONLY_SECRET_KEY)
if not DEBUG and SECRET_KEY == LOCAL_ONLY_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set: with DEBUG=false Dealdesk needs its own secret key "
        "(docs/deploy.md). A laptop runs with DEBUG=true."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "audit",
    "dealdesk.integrations",
    "dealdesk",
    "contracts",
    "contracts.esign",
    "approvals",
    "billing",
    "dealdesk.ops",
    "inbox",
    "insights",
    "dealdesk.security",
]

MIDDLEWARE = [
    # /healthz and /metrics, answered before the host check and the https redirect: load
    # balancers and Prometheus address an instance by its IP over http (dealdesk/ops).
    "dealdesk.ops.middleware.OpsEndpointsMiddleware",
    # The request id (X-Request-ID) in logs and enqueued tasks; request metrics (dealdesk/ops).
    "dealdesk.ops.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): has this session given a TOTP code?
    "django_otp.middleware.OTPMiddleware",
    # Every page needs a login; views that do not are marked with @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Approvers' short idle session, then two-factor before any page (dealdesk/security).
    "dealdesk.security.middleware.ApproverIdleTimeoutMiddleware",
    "dealdesk.security.middleware.TwoFactorMiddleware",
    # A NUL or other control character in a form or query string: 400 with a message.
    "dealdesk.middleware.RefuseControlCharactersMiddleware",
    # SQLite's "database is locked" after the busy timeout: 503 "try again", not a 500.
    "dealdesk.middleware.DatabaseBusyMiddleware",
    # A browser's wrong method (a form's address opened as a link): a 405 page, not a blank.
    "dealdesk.middleware.MethodNotAllowedPageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records request.user as history_user on every django-simple-history row.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dealdesk.urls"
WSGI_APPLICATION = "dealdesk.wsgi.application"

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
                "dealdesk.context_processors.navigation",
            ],
        },
    },
]

VAR_DIR = Path(env.str("DEALDESK_VAR_DIR", default=str(BASE_DIR / "var")))
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'dealdesk.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the dev server, a worker and a command share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            # Take the write lock at BEGIN: a deferred transaction that reads then writes
            # fails at once with "database is locked" when another writer got in between;
            # an immediate one waits its turn (up to the timeout).
            "transaction_mode": "IMMEDIATE",
        }
    )
elif env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
    # Server-side binding lets psycopg prepare a statement a connection runs again and again
    # (the audit append, the list pages), sparing PostgreSQL the parse and plan each time.
    # Turn it off behind a pooler in transaction mode that cannot keep prepared statements.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 2}
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections: a new PostgreSQL connection costs more than a whole list page.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# History keeps a person's whole reason (a form allows 2,000 characters), not simple-history's
# default 100: PostgreSQL would refuse the save, SQLite would keep it uncut.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2id (Django's parameters: 100 MiB, 2 passes): memory-hard, so a stolen hash costs an
# attacker's GPUs far more than PBKDF2 at less of our CPU per login (0.18 s where PBKDF2's
# million rounds took 0.26 s). PBKDF2 hashes from before still verify and are rehashed at the
# next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes) checks every login before the password does.
AUTHENTICATION_BACKENDS = [
    "dealdesk.security.backends.WebLoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# After LOGIN_FAILURE_LIMIT wrong passwords for one username from one address, that pair is
# locked out for LOGIN_COOLOFF_MINUTES; a successful login before that starts the count anew.
# Per pair, not per username alone: a stranger cannot lock a colleague out from elsewhere.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
# Approvers' sessions end after this long without a request; other users keep the normal age.
APPROVER_SESSION_IDLE_MINUTES = env.int("APPROVER_SESSION_IDLE_MINUTES", default=30)
# Two-factor (TOTP, django-otp): anyone may turn it on; with REQUIRE_2FA approvers and staff
# must set it up and give a code each login before any page opens.
REQUIRE_2FA = env.bool("REQUIRE_2FA", default=False)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Dealdesk")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "deal-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
# The company's time zone: nightly jobs and "today" are in it; storage is UTC.
TIME_ZONE = env.str("TIME_ZONE", default="America/New_York")
# English only: translation lookups cost a list page ~10 % of its time for nothing.
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"
# Media (contract files, invoices, evidence) on this machine's disk, or, with MEDIA_S3_BUCKET,
# in an S3-compatible bucket that every web and worker machine shares (docs/deploy.md).
# Credentials come from boto3's own chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the
# machine's role). Files stay private: downloads go through our views, which check access.
MEDIA_S3_BUCKET = env.str("MEDIA_S3_BUCKET", default="")
MEDIA_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if MEDIA_S3_BUCKET:
    MEDIA_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "location": env.str("MEDIA_S3_PREFIX", default=""),
            # Blank: AWS; else MinIO, Ceph, R2 ... (http://minio.internal:9000).
            "endpoint_url": env.str("MEDIA_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("MEDIA_S3_REGION", default="") or None,
            "default_acl": None,  # the bucket's own: private
            # A stored contract is evidence: a second file of the same name gets a new name.
            "file_overwrite": False,
            "querystring_expire": 300,
        },
    }
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {
        # Hashed, compressed files in production; plain files when DEBUG or under tests,
        # where no collectstatic has run (docs/stack-notes.md, gotcha 7).
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        ),
    },
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="dealdesk@localhost")
# Where people open Dealdesk: links in e-mails are built on it (a task has no request to ask).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Production hardening, on unless DEBUG; `manage.py check --deploy` is tested with these.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Celery: with no broker, tasks run eagerly in-process so a laptop needs no Redis. The
# in-memory broker then stands in for Celery's default AMQP on localhost, for what still asks
# for a connection when eager (a chunked group does, and kombu warns of a missing host).
_broker = env.str("CELERY_BROKER_URL", default="")
CELERY_BROKER_URL = _broker or "memory://localhost/"
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = not _broker

# The cache: each process's own memory, or with CACHE_URL (redis://host:port/db) one shared by
# every web process (dealdesk/ops/cache.py: a Redis outage makes it a miss, never an error).
# In production its own Redis with an eviction policy (allkeys-lru), as the broker's must never
# evict (docs/deploy.md); `make up` uses a second db of its one throwaway Redis.
CACHE_URL = env.str("CACHE_URL", default="")
CACHES = {
    "default": (
        {
            "BACKEND": "dealdesk.ops.cache.SharedCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "dealdesk",
            # A dead or unreachable Redis costs a page this long, once per OUTAGE_PAUSE_S.
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Pool processes per worker (WORKER_CONCURRENCY); unset, one per CPU, for a worker machine of
# its own. Where the worker shares a machine with web (`make up`), bin/up gives it half.
CELERY_WORKER_CONCURRENCY = env.int("WORKER_CONCURRENCY", default=None)
# A worker keeps our LOGGING (its filters, e.g. each font warning printed once) instead of
# replacing the root handlers with its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE

# The integrations layer (dealdesk/integrations): how pipeline steps, mail and vendor calls
# are retried. A failed attempt waits BACKOFF × 2^(attempt-1) seconds (±25 %, at most CAP, at
# least a vendor's Retry-After); after MAX_ATTEMPTS it is a dead letter for a person.
INTEGRATIONS_MAX_ATTEMPTS = env.int("INTEGRATIONS_MAX_ATTEMPTS", default=8)
INTEGRATIONS_BACKOFF_SECONDS = env.float("INTEGRATIONS_BACKOFF_SECONDS", default=30.0)
INTEGRATIONS_BACKOFF_CAP_SECONDS = env.float("INTEGRATIONS_BACKOFF_CAP_SECONDS", default=3600.0)
# A worker's claim on a step: longer than the longest step (drafting with an LLM call).
INTEGRATIONS_RUNNING_LEASE_SECONDS = env.int("INTEGRATIONS_RUNNING_LEASE_SECONDS", default=900)
# How long a sent step may wait in the queue before the sweep sends it again.
OUTBOX_RELAY_GRACE_SECONDS = env.int("OUTBOX_RELAY_GRACE_SECONDS", default=60)
# A deal drafting this long without a result may be sent again by Deal Desk from its page
# (sooner when its step failed for good); drafting normally takes seconds.
DRAFTING_RETRY_AFTER_MINUTES = env.int("DRAFTING_RETRY_AFTER_MINUTES", default=30)
# Webhook vendors: name in the URL (/webhooks/<name>/) → dotted path of its WebhookVendor.
WEBHOOK_VENDORS: dict[str, str] = {
    # Also at /contracts/esign/docusign/webhook/, the URL our envelopes name.
    "docusign": "contracts.esign.docusign.connect.DocusignConnect",
    # Also at /billing/webhooks/stripe/ (billing/stripe_sync/webhook.py).
    "stripe": "billing.ledger.stripe_webhooks.StripeWebhooks",
}

# Named service users: history and audit say which machine acted.
PIPELINE_USERNAME = "svc-pipeline"

# --- CRM sync (issue 3): backend, Salesforce log-in, field names, schedule ---------------
CRM_BACKEND = env.str("CRM_BACKEND", default="file")  # file | salesforce
# The demo bundle; a user may point this at an export of their own org.
CRM_FILE = env.str("CRM_FILE", default=str(BASE_DIR / "dealdesk" / "demo" / "crm_bundle.json"))
SALESFORCE_INSTANCE_URL = env.str("SALESFORCE_INSTANCE_URL", default="")
SALESFORCE_SESSION_ID = env.str("SALESFORCE_SESSION_ID", default="")
SALESFORCE_USERNAME = env.str("SALESFORCE_USERNAME", default="")
SALESFORCE_PASSWORD = env.str("SALESFORCE_PASSWORD", default="")
SALESFORCE_SECURITY_TOKEN = env.str("SALESFORCE_SECURITY_TOKEN", default="")
SALESFORCE_CONSUMER_KEY = env.str("SALESFORCE_CONSUMER_KEY", default="")
SALESFORCE_PRIVATE_KEY_FILE = env.str("SALESFORCE_PRIVATE_KEY_FILE", default="")
SALESFORCE_DOMAIN = env.str("SALESFORCE_DOMAIN", default="login")  # login | test | my-domain
# Log in here instead of https://{SALESFORCE_DOMAIN}.salesforce.com: a proxy, a local fake.
SALESFORCE_LOGIN_URL = env.str("SALESFORCE_LOGIN_URL", default="")
SALESFORCE_API_VERSION = env.str("SALESFORCE_API_VERSION", default="62.0")
SALESFORCE_TIMEOUT_SECONDS = env.float("SALESFORCE_TIMEOUT_SECONDS", default=60.0)
# Custom fields differ per org; these are docs/design.md's defaults. Salesforce orgs are
# described before a sync: one without CurrencyIsoCode is single-currency on its own (a deal
# takes its account's currency); an empty currency field forces that for any org.
CRM_FIELDS = {
    "contract_start": env.str("CRM_FIELD_CONTRACT_START", default="Contract_Start_Date__c"),
    "term_months": env.str("CRM_FIELD_TERM_MONTHS", default="Contract_Term_Months__c"),
    "billing_frequency": env.str("CRM_FIELD_BILLING_FREQUENCY", default="Billing_Frequency__c"),
    "payment_terms": env.str("CRM_FIELD_PAYMENT_TERMS", default="Payment_Terms__c"),
    "segment_index": env.str("CRM_FIELD_SEGMENT_INDEX", default="Segment_Index__c"),
    "notes": env.str("CRM_FIELD_NOTES", default="Description"),
    "currency": env.str("CRM_FIELD_CURRENCY", default="CurrencyIsoCode"),
}
# Records changed this long before the watermark are fetched again, so clock skew between
# Salesforce's app servers loses nothing (re-fetched unchanged records write nothing).
CRM_SYNC_OVERLAP_MINUTES = env.int("CRM_SYNC_OVERLAP_MINUTES", default=5)
CRM_SYNC_RETRIES = env.int("CRM_SYNC_RETRIES", default=4)
CRM_SYNC_BACKOFF_SECONDS = env.float("CRM_SYNC_BACKOFF_SECONDS", default=2.0)
CRM_MAX_NOTES_LENGTH = env.int("CRM_MAX_NOTES_LENGTH", default=32000)
# SQLite has no advisory lock: a run marked running for this long is taken to have died.
CRM_SYNC_STALE_HOURS = env.int("CRM_SYNC_STALE_HOURS", default=6)
CRM_SYNC_USERNAME = "svc-crm-sync"
# Nightly, in the company's time zone (CELERY_TIMEZONE above).
CRM_SYNC_HOUR = env.int("CRM_SYNC_HOUR", default=2)
CRM_SYNC_MINUTE = env.int("CRM_SYNC_MINUTE", default=0)
CELERY_BEAT_SCHEDULE = {
    # Sends every pipeline step, mail and webhook event that is due (dealdesk/integrations).
    "integrations-sweep": {"task": "integrations.sweep", "schedule": 60.0},
    "crm-sync-nightly": {
        "task": "dealdesk.crm_sync",
        "schedule": crontab(hour=CRM_SYNC_HOUR, minute=CRM_SYNC_MINUTE),
    },
}

# Contracts (issue 4): clause extraction backend and the LLM it may call.
CLAUSE_EXTRACTOR = env.str("CLAUSE_EXTRACTOR", default="rules")  # rules | openai
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")  # blank: the SDK's default
OPENAI_MODEL = env.str("OPENAI_MODEL", default="gpt-4o-mini")
OPENAI_TIMEOUT = env.float("OPENAI_TIMEOUT", default=30.0)  # seconds per attempt
OPENAI_MAX_RETRIES = env.int("OPENAI_MAX_RETRIES", default=2)  # on 429, 5xx and timeouts
# Our side of every order form.
CONTRACT_PROVIDER = {
    "name": env.str("CONTRACT_PROVIDER_NAME", default="Dealdesk Software, Inc."),
    "address": env.str(
        "CONTRACT_PROVIDER_ADDRESS",
        default="500 Market Street, San Francisco, CA 94105, United States",
    ),
}

# E-signature (issue 14): the organisation's sealing identity for executed PDFs, a PKCS#12
# file and its password from the secret store. Unset (a laptop, tests): a self-signed
# development certificate is made once under ESIGN_DEV_SEAL_DIR and every certificate page
# says so (contracts/esign/seal_certificate.py).
ESIGN_SEAL_P12 = env.str("ESIGN_SEAL_P12", default="")
ESIGN_SEAL_PASSWORD = env.str("ESIGN_SEAL_PASSWORD", default="")
ESIGN_DEV_SEAL_DIR = Path(env.str("ESIGN_DEV_SEAL_DIR", default=str(VAR_DIR / "esign")))
# Who signs first: "customer_first" (our countersignature closes the contract), "us_first",
# or "parallel" (everyone at once); contracts.esign.selectors.signing_route.
ESIGN_ROUTING_ORDER = env.str("ESIGN_ROUTING_ORDER", default="customer_first")
# Which service sends contracts for signature: "local" (our signing page, one-time links by
# e-mail; works offline) or "docusign".
ESIGN_BACKEND = env.str("ESIGN_BACKEND", default="local")
# A request nobody finished expires after this many days (the deal goes back to approved);
# signers who have not signed are reminded every REMIND_AFTER days until then.
ESIGN_EXPIRE_AFTER_DAYS = env.int("ESIGN_EXPIRE_AFTER_DAYS", default=30)
ESIGN_REMIND_AFTER_DAYS = env.int("ESIGN_REMIND_AFTER_DAYS", default=3)
# DocuSign (ESIGN_BACKEND=docusign): JWT grant log-in of an integration key acting as a user.
DOCUSIGN_INTEGRATION_KEY = env.str("DOCUSIGN_INTEGRATION_KEY", default="")
DOCUSIGN_USER_ID = env.str("DOCUSIGN_USER_ID", default="")
DOCUSIGN_PRIVATE_KEY_FILE = env.str("DOCUSIGN_PRIVATE_KEY_FILE", default="")
DOCUSIGN_ACCOUNT_ID = env.str("DOCUSIGN_ACCOUNT_ID", default="")
DOCUSIGN_BASE_PATH = env.str("DOCUSIGN_BASE_PATH", default="https://demo.docusign.net/restapi")
DOCUSIGN_OAUTH_HOST = env.str("DOCUSIGN_OAUTH_HOST", default="account-d.docusign.com")
# Connect HMAC keys, comma-separated: every key still valid during a rotation.
DOCUSIGN_CONNECT_HMAC_KEYS = env.list("DOCUSIGN_CONNECT_HMAC_KEYS", default=[])
# A Connect event generated longer ago than this is refused as a replay.
DOCUSIGN_CONNECT_MAX_AGE_SECONDS = env.int("DOCUSIGN_CONNECT_MAX_AGE_SECONDS", default=86400)
# Envelopes with no Connect event for this long are polled (DocuSign allows one poll per
# envelope per 15 minutes; we stay far inside it).
DOCUSIGN_POLL_AFTER_HOURS = env.int("DOCUSIGN_POLL_AFTER_HOURS", default=6)
DOCUSIGN_TIMEOUT_SECONDS = env.float("DOCUSIGN_TIMEOUT_SECONDS", default=30.0)
# Hourly: expire overdue requests, remind waiting signers, poll quiet DocuSign envelopes.
CELERY_BEAT_SCHEDULE["esign-sweep"] = {"task": "esign.sweep", "schedule": 3600.0}

# Billing (issue 15): which ledger bills the signed contract, "local" (our own invoices and
# bank-statement import; offline) or "stripe".
BILLING_BACKEND = env.str("BILLING_BACKEND", default="local")
STRIPE_API_KEY = env.str("STRIPE_API_KEY", default="")
# Blank: Stripe itself; a local fake in tests (http://127.0.0.1:PORT).
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# The API version every request pins (the mapping is written against it).
STRIPE_API_VERSION = env.str("STRIPE_API_VERSION", default="2026-10-28.endive")
# Webhook signing secrets ("whsec_..."), comma-separated: every one valid during a rotation.
STRIPE_WEBHOOK_SECRET = env.list("STRIPE_WEBHOOK_SECRET", default=[])
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=30.0)
# Stripe's events (billing/stripe_sync): nightly, every event since the last one seen is fed
# through the webhook inbox, so one Stripe never delivered is still handled; the first sweep
# looks back this many days (Stripe keeps events for 30).
STRIPE_SWEEP_HOUR = env.int("STRIPE_SWEEP_HOUR", default=3)
STRIPE_SWEEP_FIRST_LOOKBACK_DAYS = env.int("STRIPE_SWEEP_FIRST_LOOKBACK_DAYS", default=3)
# Our legal entity on invoices: one gapless sequence of invoice numbers per entity and year.
INVOICE_LEGAL_ENTITY = env.str("INVOICE_LEGAL_ENTITY", default="DD")
# What every invoice says under "How to pay" (bank details): set it per company.
INVOICE_PAYMENT_INSTRUCTIONS = env.str(
    "INVOICE_PAYMENT_INSTRUCTIONS", default="Bank transfer to Dealdesk Software, Inc."
)
# Our tax (VAT) id, printed on every invoice when set.
INVOICE_SELLER_TAX_ID = env.str("INVOICE_SELLER_TAX_ID", default="")
# Invoice readiness (billing/readiness.py): the longest payment terms billed without Finance,
# and the currencies whose customers must give a tax (VAT) id on their invoices.
BILLING_MAX_PAYMENT_TERMS = env.int("BILLING_MAX_PAYMENT_TERMS", default=90)
BILLING_TAX_ID_CURRENCIES = env.list("BILLING_TAX_ID_CURRENCIES", default=["EUR", "GBP", "CHF"])
# Cash (billing/reconciliation): a payment short of what its invoices ask by at most this
# percent is "short-paid by bank fees" rather than partial (intermediary banks take a few tens
# of EUR/USD off a transfer: 0.5 % of a typical invoice). Capped at 2 % in
# billing/reconciliation/open_invoices.py. Text, read as a Decimal: never a float near money.
BILLING_BANK_FEE_TOLERANCE_PERCENT = env.str("BILLING_BANK_FEE_TOLERANCE_PERCENT", default="0.5")
# Daily, early: every drafted invoice whose issue day has come is numbered and issued.
CELERY_BEAT_SCHEDULE["billing-stripe-sweep"] = {
    "task": "billing.stripe_sweep",
    "schedule": crontab(hour=STRIPE_SWEEP_HOUR, minute=30),
}
CELERY_BEAT_SCHEDULE["billing-issue-due"] = {
    "task": "billing.issue_due",
    "schedule": crontab(hour=env.int("BILLING_ISSUE_HOUR", default=6), minute=0),
}
# Go-live and first-invoice review (billing/go_live.py, billing/invoice_review.py): billing
# that starts at go-live waits for its date, entered on the deal page or posted by the product
# with one of these bearer tokens (comma-separated `name=secret` entries, the name goes in the
# audit event; a bare secret still works; none: the endpoint refuses every call); a go-live
# date may lie at most this many days ahead; when the review is on, a deal's first invoice
# waits as a draft until Finance releases it.
BILLING_GO_LIVE_TOKENS = env.list("BILLING_GO_LIVE_TOKENS", default=[])
BILLING_GO_LIVE_MAX_DAYS_AHEAD = env.int("BILLING_GO_LIVE_MAX_DAYS_AHEAD", default=90)
BILLING_FIRST_INVOICE_REVIEW = env.bool("BILLING_FIRST_INVOICE_REVIEW", default=False)
# The AR queue (billing/receivables.py): a customer is reminded of an unpaid invoice at most
# once in this many days per AR item.
BILLING_CHASE_MIN_DAYS = env.int("BILLING_CHASE_MIN_DAYS", default=7)

# Approvals (issue 5): requests waiting longer than the SLA are reminded daily.
APPROVAL_SLA_HOURS = env.int("APPROVAL_SLA_HOURS", default=24)
# A delegation hands on a group's authority for a holiday, not for good: its longest span.
APPROVAL_DELEGATION_MAX_DAYS = env.int("APPROVAL_DELEGATION_MAX_DAYS", default=30)
CELERY_BEAT_SCHEDULE["approvals-reminder-daily"] = {
    "task": "approvals.remind",
    "schedule": crontab(hour=env.int("APPROVAL_REMINDER_HOUR", default=8), minute=0),
}

# Process dashboard (issue 16, docs/dashboard.md): the days each stage may take before it
# counts as an SLA breach (Closed-Won → drafted → approved → signed → invoiced → paid);
# INSIGHTS_STAGE_SLA_DAYS="drafted=3,signed=10" overrides some and keeps the others.
INSIGHTS_STAGE_SLA_DAYS = {
    "drafted": 2,
    "approved": 5,
    "signed": 14,
    "invoiced": 3,
    "paid": 45,
} | {stage: int(days) for stage, days in env.dict("INSIGHTS_STAGE_SLA_DAYS", default={}).items()}
# Seconds the dashboard's figures are kept once worked out, per filter set and audience (in the
# cache: shared by the web processes with CACHE_URL); the page says how old they are and can work
# them out now. 0: every view.
INSIGHTS_FIGURES_MAX_AGE = env.int("INSIGHTS_FIGURES_MAX_AGE", default=60)

# Customer segments by the account's employee count (dealdesk/segments.py): below the first
# bound SMB, below the second Mid-Market, from it on Enterprise.
ACCOUNT_SEGMENT_BANDS = env.list("ACCOUNT_SEGMENT_BANDS", cast=int, default=[200, 2000])

# Exception inbox (issue 16, docs/inbox.md): hours each kind of stopped work may wait before
# its SLA counts as breached (INBOX_SLA_HOURS="ar_item=48,dead_step=2" overrides some and
# keeps the others); the daily digest e-mail goes out at INBOX_DIGEST_HOUR.
INBOX_SLA_HOURS = {
    "manual_review": 24,
    "changes_requested": 24,
    "signature": 24,
    "crm_quarantine": 24,
    "crm_drift": 24,
    "billing_exception": 24,
    "ar_item": 72,
    "dead_step": 4,
    "dead_event": 4,
} | {kind: int(hours) for kind, hours in env.dict("INBOX_SLA_HOURS", default={}).items()}
CELERY_BEAT_SCHEDULE["inbox-digest-daily"] = {
    "task": "inbox.send_digest",
    "schedule": crontab(hour=env.int("INBOX_DIGEST_HOUR", default=7), minute=15),
}

# Audit (issue 12, docs/audit.md): the key of every event's HMAC, held outside the database
# (unset: a laptop, DEBUG=true, uses a named public key); where the chain head is anchored.
AUDIT_CHAIN_KEY = env.str("AUDIT_CHAIN_KEY", default="")
if not DEBUG and not AUDIT_CHAIN_KEY:
    raise ImproperlyConfigured(
        "AUDIT_CHAIN_KEY is not set: with DEBUG=false the audit log needs its own HMAC key, "
        "kept outside the database (docs/audit.md). A laptop runs with DEBUG=true."
    )
AUDIT_ANCHOR_URL = env.str("AUDIT_ANCHOR_URL", default=(VAR_DIR / "audit-anchors.jsonl").as_uri())
# s3://bucket/prefix anchors: an S3-compatible endpoint (blank: AWS), and how long each anchor
# is locked (compliance mode; SOX asks for seven years of records).
AUDIT_ANCHOR_S3_ENDPOINT_URL = env.str("AUDIT_ANCHOR_S3_ENDPOINT_URL", default="")
AUDIT_ANCHOR_RETENTION_DAYS = env.int("AUDIT_ANCHOR_RETENTION_DAYS", default=7 * 366)
CELERY_BEAT_SCHEDULE["audit-anchor-hourly"] = {
    "task": "audit.anchor",
    "schedule": crontab(minute=0),
}

# --- Operations (issue 16, docs/deploy.md): Celery for money paths, /healthz, /metrics,
# JSON logs with request ids -------------------------------------------------------------
# Beside CELERY_TASK_ACKS_LATE, _REJECT_ON_WORKER_LOST and PREFETCH 1 above: a task that runs
# past its soft limit is interrupted (SoftTimeLimitExceeded), past the hard one its process is
# killed. The longest task is the nightly CRM sync (a full import of thousands of deals); an
# outbox delivery (up to 100 pipeline steps in one message) comes next.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=1800)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=1680)
CRM_SYNC_TIME_LIMIT = env.int("CRM_SYNC_TIME_LIMIT", default=3600)
CELERY_TASK_ANNOTATIONS = {
    "dealdesk.crm_sync": {
        "time_limit": CRM_SYNC_TIME_LIMIT,
        "soft_time_limit": CRM_SYNC_TIME_LIMIT - 120,
    }
}
# Redis redelivers a message not acknowledged within this time: with acks_late it must
# outlast the longest task, or a running task is handed to a second worker (check ops.E001).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * CRM_SYNC_TIME_LIMIT)
}
# A worker that lost the broker stops its running tasks: the broker hands them out again,
# and running on would run them twice (the tasks are idempotent, twice at once is the risk).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Beat's heartbeat (dealdesk/ops/tasks.py): /healthz calls beat stale after this long.
CELERY_BEAT_SCHEDULE["ops-beat-heartbeat"] = {"task": "ops.beat_heartbeat", "schedule": 60.0}
HEALTHZ_BEAT_STALE_SECONDS = env.int("HEALTHZ_BEAT_STALE_SECONDS", default=300)
# A pipeline step or webhook event waiting this long past its due time fails /healthz.
HEALTHZ_OUTBOX_LAG_SECONDS = env.int("HEALTHZ_OUTBOX_LAG_SECONDS", default=300)
HEALTHZ_BROKER_TIMEOUT_SECONDS = env.float("HEALTHZ_BROKER_TIMEOUT_SECONDS", default=1.0)
# /metrics answers only these bearer tokens (comma-separated: two during a rotation); none
# set, it does not exist.
METRICS_TOKENS = env.list("METRICS_TOKEN", default=[])
# A worker machine's own scrape target ("host:port", e.g. "10.0.0.5:9808"): the task
# timings its pool processes recorded (needs PROMETHEUS_MULTIPROC_DIR). Unset: none.
WORKER_METRICS_ADDRESS = env.str("WORKER_METRICS_ADDRESS", default="")
# "json" (one object per line with the request id) or "plain" (a laptop's terminal).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "dealdesk.ops.json_logs.JsonFormatter"},
    },
    "filters": {
        # A machine without the Noto fonts warns per missing character per PDF: print each once.
        "font_warnings_once": {
            "()": "contracts.missing_glyphs.PrintedOnce",
            "loggers": ["weasyprint", "fontTools"],
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["font_warnings_once"],
        },
        "webhook_rejects": {"class": "dealdesk.ops.metrics.WebhookRejectCounter"},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},
        # Not quieter: contracts.rendering reads its missing-glyph warnings.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # Its version banner at every start; lockouts are warnings and still show.
        "axes": {"level": "WARNING"},
        # Two lines per request and answer; every Stripe call is an IntegrationCall row.
        "stripe": {"level": "WARNING"},
        # A refused webhook is counted for /metrics from the warning that refuses it.
        "dealdesk.integrations.views": {"handlers": ["webhook_rejects"]},
        # One line per request and per task (dealdesk/ops); runserver writes its own.
        "dealdesk.access": {"level": "INFO" if LOG_FORMAT == "json" else "WARNING"},
        "dealdesk.tasks": {"level": "INFO" if LOG_FORMAT == "json" else "WARNING"},
    },
}
