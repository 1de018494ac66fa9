"""The DocuSign eSignature REST v2.1 client (official `docusign-esign` SDK) over plain
dataclasses: what the docusign backend sends and reads, and nothing of our models.

Log-in is the JWT grant (an integration key impersonating a user), its access token cached
per process until shortly before it expires. Every call is logged by `vendor_call`, and every
SDK failure becomes an `IntegrationError`: retryable for no answer, a timeout, 429 and 5xx
(with the Retry-After DocuSign asked for), permanent for any other 4xx.
"""

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import urllib3
from django.conf import settings
from docusign_esign import (
    ApiClient,
    ApiException,
    ConnectEventData,
    CustomFields,
    DateSigned,
    Document,
    Envelope,
    EnvelopeDefinition,
    EnvelopesApi,
    EventNotification,
    Expirations,
    Notification,
    Recipients,
    Reminders,
    Signer,
    SignHere,
    Tabs,
    TextCustomField,
)

from dealdesk.integrations.calls import vendor_call
from dealdesk.integrations.errors import IntegrationError
from dealdesk.integrations.retry import retry_after_seconds

T = TypeVar("T")

VENDOR = "docusign"
# The envelope custom field that carries our SignatureRequest's public id: how a retried send
# finds the envelope an earlier, unanswered attempt created.
REQUEST_ID_FIELD = "dealdesk_request_id"
WEBHOOK_PATH = "/contracts/esign/docusign/webhook/"
CONNECT_EVENTS = [
    "envelope-sent",
    "envelope-delivered",
    "envelope-completed",
    "envelope-declined",
    "envelope-voided",
    "recipient-sent",
    "recipient-delivered",
    "recipient-completed",
    "recipient-declined",
]
SCOPES = ("signature", "impersonation")
JWT_ASSERTION_SECONDS = 600  # the signed log-in request's own life, not the token's
# Log in again this long before the token's end, so a call never starts on a dying token.
TOKEN_MARGIN_SECONDS = 300
# How far back a retried send looks for its envelope: longer than any retry schedule, and a
# person retrying a dead letter weeks later still adopts the envelope instead of sending twice.
FIND_WINDOW = timedelta(days=90)
# The date-signed tab sits on the signer's anchor line, this far right of the signature.
DATE_SIGNED_X_OFFSET = "220"
VOIDED_REASON_LIMIT = 200  # DocuSign refuses a longer voidedReason
# What DocuSign answers when voiding an envelope that is not sent/delivered (already voided,
# completed, declined): a retried void whose first answer was lost meets it.
CANNOT_VOID = "ENVELOPE_CANNOT_VOID_INVALID_STATE"


@dataclass(frozen=True)
class EnvelopeSigner:
    recipient_id: str
    name: str
    email: str
    routing_order: int
    # The invisible string our contract prints where this signer signs, e.g. "/dd-sign-1/".
    anchor: str


@dataclass(frozen=True)
class EnvelopeRequest:
    request_id: str  # our SignatureRequest's public id (a uuid)
    document_name: str
    pdf: bytes
    email_subject: str
    email_blurb: str
    signers: list[EnvelopeSigner]
    remind_after_days: int  # 0: no reminders
    expire_after_days: int


@dataclass(frozen=True)
class RecipientState:
    recipient_id: str
    email: str
    name: str
    status: str  # created (not their turn yet), sent, delivered, completed, declined, ...
    sent_at: datetime | None
    delivered_at: datetime | None
    signed_at: datetime | None
    declined_at: datetime | None
    decline_reason: str
    ip: str  # "" where DocuSign does not report it


@dataclass(frozen=True)
class EnvelopeState:
    envelope_id: str
    status: str  # sent, delivered, completed, declined, voided
    status_changed_at: datetime | None
    voided_reason: str
    recipients: list[RecipientState]


@dataclass(frozen=True)
class _Token:
    value: str
    refresh_at: float  # time.monotonic()


# Access tokens by (integration key, user, OAuth host): one log-in per process and hour, not
# one per call. The lock also makes threads that find no token wait for one log-in.
_tokens: dict[tuple[str, str, str], _Token] = {}
_tokens_lock = threading.Lock()


class _ApiClient(ApiClient):
    """The SDK's client with our timeout on every request, and no hidden retries.

    Its token request takes no timeout at all, and its API methods apply a single number
    only when it is an int (a float is silently dropped): the (connect, read) pair is set
    here, once, for all of them. Its urllib3 pool would retry a 429/503 itself, sleeping
    out the Retry-After (DocuSign's hourly limit: up to an hour) inside our call, and retry
    a GET that timed out: retries are the integrations layer's, so only a connection that
    never opened is tried again here.
    """

    def __init__(self, *, host: str, oauth_host: str, timeout: float) -> None:
        super().__init__(host=host, oauth_host_name=oauth_host)
        self.timeout = (timeout, timeout)
        self.rest_client.pool_manager.connection_pool_kw["retries"] = urllib3.Retry(
            total=2, read=0, status=0, respect_retry_after_header=False
        )

    def request(self, method, url, *args, _request_timeout=None, **kwargs):
        return super().request(
            method, url, *args, _request_timeout=_request_timeout or self.timeout, **kwargs
        )


def _api_error(exc: ApiException) -> IntegrationError:
    status = exc.status or 0
    try:
        body = json.loads(exc.body or b"{}")
    except ValueError:  # an HTML error page from a proxy
        body = {}
    body = body if isinstance(body, dict) else {}
    # eSignature errors carry errorCode/message, OAuth errors error/error_description.
    code = str(body.get("errorCode") or body.get("error") or "")
    message = str(body.get("message") or body.get("error_description") or exc.reason or "")
    # Status 0 is the SDK's "no answer" (a TLS failure): a network error like any other.
    retryable = status in (0, 429) or status >= 500
    headers = exc.headers or {}
    return IntegrationError(
        f"DocuSign answered {status} {code}: {message}".strip()[:1000],
        retryable=retryable,
        code=code,
        retry_after=retry_after_seconds(headers.get("Retry-After")) if retryable else None,
    )


@contextmanager
def _translated() -> Iterator[None]:
    """SDK and transport failures as IntegrationError (ours pass through unchanged)."""
    try:
        yield
    except ApiException as exc:
        raise _api_error(exc) from exc
    except urllib3.exceptions.HTTPError as exc:  # refused, reset, timed out: no answer
        raise IntegrationError(
            f"DocuSign unreachable: {type(exc).__name__}: {exc}"[:1000],
            retryable=True,
            code="network",
        ) from exc


def _when(value: str | None) -> datetime | None:
    """DocuSign's times ("2026-12-05T10:11:12.1230000Z") as aware datetimes; UTC if bare."""
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _request_id_of(envelope: Envelope) -> str | None:
    fields = envelope.custom_fields.text_custom_fields if envelope.custom_fields else None
    return next((f.value for f in fields or [] if f.name == REQUEST_ID_FIELD), None)


def _signer_ips(audit_events: list) -> dict[str, str]:
    """The IP each recipient signed or declined from, by DocuSign user id: the recipient
    resource does not carry it, the envelope's audit events do."""
    ips = {}
    for event in audit_events:
        fields = {f.name: f.value for f in event.event_fields or []}
        if fields.get("Action") in ("Signed", "Declined") and fields.get("ClientIPAddress"):
            ips[fields.get("UserId", "")] = fields["ClientIPAddress"]
    return ips


def _envelope_definition(req: EnvelopeRequest) -> EnvelopeDefinition:
    signers = [
        Signer(
            recipient_id=signer.recipient_id,
            name=signer.name,
            email=signer.email,
            routing_order=str(signer.routing_order),
            tabs=Tabs(
                sign_here_tabs=[SignHere(**_anchored(signer.anchor, "0"))],
                date_signed_tabs=[DateSigned(**_anchored(signer.anchor, DATE_SIGNED_X_OFFSET))],
            ),
        )
        for signer in req.signers
    ]
    return EnvelopeDefinition(
        status="sent",
        email_subject=req.email_subject,
        email_blurb=req.email_blurb,
        documents=[
            Document(
                document_id="1",
                name=req.document_name,
                file_extension="pdf",
                document_base64=base64.b64encode(req.pdf).decode("ascii"),
            )
        ],
        recipients=Recipients(signers=signers),
        custom_fields=CustomFields(
            text_custom_fields=[
                TextCustomField(name=REQUEST_ID_FIELD, value=req.request_id, show="false")
            ]
        ),
        event_notification=EventNotification(
            url=f"{settings.SITE_URL}{WEBHOOK_PATH}",
            delivery_mode="SIM",
            events=CONNECT_EVENTS,
            event_data=ConnectEventData(
                version="restv2.1", format="json", include_data=["recipients", "custom_fields"]
            ),
            include_hmac="true",
            require_acknowledgment="true",  # DocuSign retries what we did not acknowledge
            logging_enabled="true",
        ),
        notification=Notification(
            use_account_defaults="false",
            reminders=Reminders(
                reminder_enabled=str(req.remind_after_days > 0).lower(),
                reminder_delay=str(req.remind_after_days),
                reminder_frequency=str(req.remind_after_days),
            ),
            expirations=Expirations(expire_enabled="true", expire_after=str(req.expire_after_days)),
        ),
    )


def _anchored(anchor: str, x_offset: str) -> dict[str, str]:
    # A contract without the signer's anchor must be refused (400), never sent with no place
    # to sign: hence anchorIgnoreIfNotPresent false.
    return {
        "anchor_string": anchor,
        "anchor_units": "pixels",
        "anchor_x_offset": x_offset,
        "anchor_y_offset": "0",
        "anchor_ignore_if_not_present": "false",
        "anchor_match_whole_word": "true",
    }


class DocusignClient:
    """One per task or thread (the SDK keeps the Authorization header on its client)."""

    def __init__(
        self,
        *,
        integration_key: str,
        user_id: str,
        private_key: bytes,
        account_id: str,
        base_path: str,
        oauth_host: str,
        timeout: float,
    ) -> None:
        self.integration_key = integration_key
        self.user_id = user_id
        self.private_key = private_key
        self.account_id = account_id
        self.oauth_host = oauth_host
        self._api = _ApiClient(host=base_path, oauth_host=oauth_host, timeout=timeout)
        self._login = (integration_key, user_id, oauth_host)

    @classmethod
    def from_settings(cls) -> "DocusignClient":
        missing = [
            name
            for name in (
                "DOCUSIGN_INTEGRATION_KEY",
                "DOCUSIGN_USER_ID",
                "DOCUSIGN_PRIVATE_KEY_FILE",
                "DOCUSIGN_ACCOUNT_ID",
            )
            if not getattr(settings, name)
        ]
        if missing:
            raise IntegrationError(
                f"DocuSign is not configured: set {', '.join(missing)}", code="not_configured"
            )
        try:
            private_key = Path(settings.DOCUSIGN_PRIVATE_KEY_FILE).read_bytes()
        except OSError as exc:
            raise IntegrationError(
                f"DocuSign private key unreadable: {exc}", code="not_configured"
            ) from exc
        return cls(
            integration_key=settings.DOCUSIGN_INTEGRATION_KEY,
            user_id=settings.DOCUSIGN_USER_ID,
            private_key=private_key,
            account_id=settings.DOCUSIGN_ACCOUNT_ID,
            base_path=settings.DOCUSIGN_BASE_PATH,
            oauth_host=settings.DOCUSIGN_OAUTH_HOST,
            timeout=settings.DOCUSIGN_TIMEOUT_SECONDS,
        )

    # --- log-in -------------------------------------------------------------------------

    def _access_token(self) -> str:
        with _tokens_lock:
            token = _tokens.get(self._login)
            if token is None or token.refresh_at <= time.monotonic():
                token = _tokens[self._login] = self._log_in()
            return token.value

    def _log_in(self) -> _Token:
        with vendor_call(VENDOR, "oauth_token"), _translated():
            answer = self._api.request_jwt_user_token(
                client_id=self.integration_key,
                user_id=self.user_id,
                oauth_host_name=self.oauth_host,
                private_key_bytes=self.private_key,
                expires_in=JWT_ASSERTION_SECONDS,
                scopes=SCOPES,
            )
        lifetime = int(answer.expires_in or 0)
        return _Token(answer.access_token, time.monotonic() + lifetime - TOKEN_MARGIN_SECONDS)

    def _forget(self, token: str) -> None:
        with _tokens_lock:
            cached = _tokens.get(self._login)
            if cached is not None and cached.value == token:  # not one another thread renewed
                del _tokens[self._login]

    def _call(self, operation: str, send: Callable[[EnvelopesApi], T], *, key: str) -> T:
        """One logged call; a 401 (token revoked or expired early) logs in once more, and a
        second 401 is the answer."""
        with vendor_call(VENDOR, operation, idempotency_key=key), _translated():
            token = self._access_token()
            try:
                return send(self._envelopes(token))
            except ApiException as exc:
                if exc.status != 401:
                    raise
            self._forget(token)
            return send(self._envelopes(self._access_token()))

    def _envelopes(self, token: str) -> EnvelopesApi:
        self._api.set_default_header("Authorization", f"Bearer {token}")
        return EnvelopesApi(self._api)

    # --- envelopes ----------------------------------------------------------------------

    def create_envelope(self, req: EnvelopeRequest) -> str:
        """Send a new envelope; its id. Not idempotent on its own: see `ensure_envelope`."""
        definition = _envelope_definition(req)
        summary = self._call(
            "create_envelope",
            lambda api: api.create_envelope(self.account_id, envelope_definition=definition),
            key=req.request_id,
        )
        return summary.envelope_id

    def find_envelope(self, request_id: str) -> str | None:
        """The envelope an earlier send of this request created, if any."""
        since = (datetime.now(UTC) - FIND_WINDOW).strftime("%Y-%m-%dT%H:%M:%SZ")
        found = self._call(
            "find_envelope",
            lambda api: api.list_status_changes(
                self.account_id,
                from_date=since,
                custom_field=f"{REQUEST_ID_FIELD}={request_id}",
                include="custom_fields",
            ),
            key=request_id,
        )
        # Checked again here: adopting another contract's envelope would be far worse than
        # a search that matched loosely.
        ours = [e for e in found.envelopes or [] if _request_id_of(e) == request_id]
        ours.sort(key=lambda e: e.created_date_time or "")
        return ours[0].envelope_id if ours else None

    def get_envelope(self, envelope_id: str) -> EnvelopeState:
        """The envelope and its signers as DocuSign has them now (webhook handlers act on
        this, never on an event's body)."""

        def read(api: EnvelopesApi) -> tuple[Envelope, list[Signer], list]:
            envelope = api.get_envelope(self.account_id, envelope_id)
            signers = api.list_recipients(self.account_id, envelope_id).signers or []
            acted = any(s.signed_date_time or s.declined_date_time for s in signers)
            events = (
                api.list_audit_events(self.account_id, envelope_id).audit_events or []
                if acted
                else []
            )
            return envelope, signers, events

        envelope, signers, events = self._call("get_envelope", read, key=envelope_id)
        ips = _signer_ips(events)
        return EnvelopeState(
            envelope_id=envelope.envelope_id,
            status=envelope.status,
            status_changed_at=_when(envelope.status_changed_date_time),
            voided_reason=envelope.voided_reason or "",
            recipients=[
                RecipientState(
                    recipient_id=s.recipient_id,
                    email=s.email,
                    name=s.name,
                    status=s.status,
                    sent_at=_when(s.sent_date_time),
                    delivered_at=_when(s.delivered_date_time),
                    signed_at=_when(s.signed_date_time),
                    declined_at=_when(s.declined_date_time),
                    decline_reason=s.declined_reason or "",
                    ip=ips.get(s.user_id or "", ""),
                )
                for s in signers
            ],
        )

    def void_envelope(self, envelope_id: str, reason: str) -> None:
        """Void a sent envelope; an envelope already voided counts as done (a retry)."""
        # DocuSign refuses a void without a reason, and mails it to the signers.
        reason = (reason.strip() or "Voided by the sender")[:VOIDED_REASON_LIMIT]
        change = Envelope(status="voided", voided_reason=reason)
        try:
            self._call(
                "void_envelope",
                lambda api: api.update(self.account_id, envelope_id, envelope=change),
                key=envelope_id,
            )
        except IntegrationError as exc:
            if exc.code != CANNOT_VOID or self.get_envelope(envelope_id).status != "voided":
                raise

    def download_combined(self, envelope_id: str) -> bytes:
        """The signed document(s) as one PDF."""
        return self._document(envelope_id, "combined")

    def download_certificate(self, envelope_id: str) -> bytes:
        """DocuSign's certificate of completion (who signed, when, from where)."""
        return self._document(envelope_id, "certificate")

    def _document(self, envelope_id: str, document_id: str) -> bytes:
        return self._call(
            f"download_{document_id}",
            lambda api: api.get_document(self.account_id, document_id, envelope_id),
            key=envelope_id,
        )


def ensure_envelope(client: DocusignClient, req: EnvelopeRequest) -> str:
    """The idempotent send: the envelope an earlier attempt created, else a new one."""
    return client.find_envelope(req.request_id) or client.create_envelope(req)
