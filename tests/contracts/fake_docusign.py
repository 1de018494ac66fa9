"""A local, stateful fake of DocuSign's eSignature REST v2.1 API, for the real docusign-esign
SDK (never a monkeypatched one).

It speaks TLS with a certificate made here: the SDK builds its token URL as
"https://" + oauth host (docs/stack-notes.md), so the fake is https and the SDK's one
Configuration is told to trust the fake's certificate (`fake_docusign()` does both).

Serves POST /oauth/token (JWT bearer grant: the assertion checked against the configured
public key, audience and scopes), and under /restapi/v2.1/accounts/{account}/: POST and GET
(status changes, `custom_field=name=value` filter) envelopes, GET/PUT envelopes/{id} (PUT
voids), GET envelopes/{id}/recipients, GET envelopes/{id}/audit_events, GET
envelopes/{id}/documents/{1|combined|certificate}. Recipients follow their routing order:
"created" until everyone before them has signed.

Test controls: `fail_next(n, status, headers=..., applied=True, method="POST")` (answer
the next n API calls with an error; `applied` does the work first, as when the answer is
lost on the way back), `delay_next(seconds)`, `revoke_tokens()`, `deliver/sign/decline(...)`, and
`connect_event(envelope_id, event)` → (body, headers) signed like a Connect delivery.
"""

import base64
import datetime as dt
import io
import ipaddress
import itertools
import json
import re
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from docusign_esign.client.configuration import Configuration

from contracts.esign.docusign.connect import SIGNATURE_HEADER, connect_signature

ACCOUNT_ID = "acct-0001"
USER_ID = "user-guid-0001"
INTEGRATION_KEY = "ik-0001"
API = re.compile(r"/restapi/v2\.1/accounts/(?P<account>[^/]+)/envelopes(?P<rest>/.*)?$")
ERRORS = {
    400: "INVALID_REQUEST_BODY",
    401: "USER_AUTHENTICATION_FAILED",
    404: "ENVELOPE_DOES_NOT_EXIST",
    429: "HOURLY_APIINVOCATION_LIMIT_EXCEEDED",
    500: "UNSPECIFIED_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


def rsa_key_pair() -> tuple[bytes, bytes]:
    """(private PEM, public PEM): the integration key's pair for the JWT grant."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def _tls_files(directory: Path) -> tuple[Path, Path]:
    """A self-signed CA certificate for 127.0.0.1 (cert file, key file)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake docusign")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "fake-docusign.crt", directory / "fake-docusign.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _stamp(moment: dt.datetime | None = None) -> str:
    """DocuSign's time format: seven fractional digits and a Z."""
    moment = (moment or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def certificate_pdf(envelope_id: str) -> bytes:
    """A small valid PDF standing in for DocuSign's certificate of completion."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.add_metadata({"/Title": f"Certificate of completion {envelope_id}"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


class _Answer(Exception):
    def __init__(self, status: int, body, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _error(status: int, message: str, code: str | None = None) -> _Answer:
    return _Answer(status, {"errorCode": code or ERRORS.get(status, "ERROR"), "message": message})


class FakeDocusign:
    def __init__(self, directory: Path, *, hmac_keys: list[str] | None = None) -> None:
        self.account_id = ACCOUNT_ID
        self.hmac_keys = hmac_keys or ["connect-key-1"]
        # Log-in: (integration key, user id, public key PEM) of the one app allowed to act.
        self.jwt_client: tuple[str, str, bytes] | None = None
        self.token_lifetime = 3600
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.envelopes: dict[str, dict] = {}
        self.envelopes_created = 0
        self.requests: list[tuple[str, str]] = []
        # Next API answers: (status, headers, applied, method or None) each; and seconds to
        # stall the next ones.
        self.failures: list[tuple[int, dict[str, str], bool, str | None]] = []
        self.delays: list[float] = []
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self.ca_file, key_file = _tls_files(directory)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_file, key_file)
        # The handshake runs in the request's thread (Handler.setup), not in the accept loop.
        self.server.socket = context.wrap_socket(
            self.server.socket, server_side=True, do_handshake_on_connect=False
        )
        port = self.server.server_address[1]
        self.oauth_host = f"127.0.0.1:{port}"
        self.base_path = f"https://127.0.0.1:{port}/restapi"

    def start(self) -> "FakeDocusign":
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- test controls ------------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        *,
        headers: dict | None = None,
        applied: bool = False,
        method: str | None = None,
    ) -> None:
        """Answer the next n API calls (of `method`, if given) with `status`; `applied`: do
        the work first, then fail, as when the answer is lost on its way back."""
        with self._lock:
            self.failures += [(status, headers or {}, applied, method)] * n

    def delay_next(self, seconds: float) -> None:
        with self._lock:
            self.delays.append(seconds)

    def revoke_tokens(self) -> None:
        """Every issued token stops working (revoked, or expired before its time)."""
        with self._lock:
            self.tokens.clear()

    def signer(self, envelope_id: str, recipient_id: str) -> dict:
        envelope = self.envelopes[envelope_id]
        return next(s for s in envelope["signers"] if s["recipientId"] == recipient_id)

    def deliver(self, envelope_id: str, recipient_id: str) -> None:
        """The signer opened the envelope."""
        with self._lock:
            signer = self._their_turn(envelope_id, recipient_id)
            signer.update(status="delivered", deliveredDateTime=_stamp())

    def sign(self, envelope_id: str, recipient_id: str, *, ip: str = "203.0.113.7") -> None:
        with self._lock:
            envelope = self.envelopes[envelope_id]
            signer = self._their_turn(envelope_id, recipient_id)
            signer.update(status="completed", signedDateTime=_stamp())
            signer.setdefault("deliveredDateTime", signer["signedDateTime"])
            self._audit(envelope, signer, "Signed", ip)
            self._route(envelope)

    def decline(self, envelope_id: str, recipient_id: str, reason: str, *, ip="") -> None:
        with self._lock:
            envelope = self.envelopes[envelope_id]
            signer = self._their_turn(envelope_id, recipient_id)
            signer.update(status="declined", declinedDateTime=_stamp(), declinedReason=reason)
            self._audit(envelope, signer, "Declined", ip or "198.51.100.9")
            self._set_status(envelope, "declined")

    def connect_event(
        self,
        envelope_id: str,
        event: str,
        *,
        recipient_id: str | None = None,
        keys: list[str] | None = None,
        generated_at: dt.datetime | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """A Connect JSON SIM delivery for this envelope's current state, signed with every
        key (X-DocuSign-Signature-1..N), as DocuSign would POST it."""
        envelope = self.envelopes[envelope_id]
        data = {
            "accountId": self.account_id,
            "userId": USER_ID,
            "envelopeId": envelope_id,
            "envelopeSummary": self._envelope_json(envelope, custom_fields=True),
        }
        if recipient_id is not None:
            data["recipientId"] = recipient_id
        payload = {
            "event": event,
            "apiVersion": "v2.1",
            "uri": f"/restapi/v2.1/accounts/{self.account_id}/envelopes/{envelope_id}",
            "retryCount": 0,
            "configurationId": 10001,
            "generatedDateTime": _stamp(generated_at),
            "data": data,
        }
        body = json.dumps(payload).encode()
        keys = self.hmac_keys if keys is None else keys
        headers = {
            SIGNATURE_HEADER.format(n): connect_signature(body, key)
            for n, key in enumerate(keys, start=1)
        }
        return body, headers

    # --- the service --------------------------------------------------------------------

    def _their_turn(self, envelope_id: str, recipient_id: str) -> dict:
        signer = self.signer(envelope_id, recipient_id)
        if signer["status"] not in ("sent", "delivered"):
            raise AssertionError(f"recipient {recipient_id} is {signer['status']}, cannot act")
        if self.envelopes[envelope_id]["status"] not in ("sent", "delivered"):
            raise AssertionError(f"envelope {envelope_id} is {self.envelopes[envelope_id]}")
        return signer

    def _audit(self, envelope: dict, signer: dict, action: str, ip: str) -> None:
        fields = {
            "logTime": _stamp(),
            "Source": "web",
            "UserName": signer["name"],
            "UserId": signer["userId"],
            "Action": action,
            "Message": f"{signer['name']} {action.lower()} the envelope",
            "EnvelopeStatus": envelope["status"],
            "ClientIPAddress": ip,
        }
        envelope["audit"].append(
            {"eventFields": [{"name": k, "value": v} for k, v in fields.items()]}
        )

    def _set_status(self, envelope: dict, status: str) -> None:
        envelope.update(status=status, statusChangedDateTime=_stamp())

    def _route(self, envelope: dict) -> None:
        """Send to the next routing order once everyone before it has signed."""
        waiting = [s for s in envelope["signers"] if s["status"] != "completed"]
        if not waiting:
            self._set_status(envelope, "completed")
            envelope["completedDateTime"] = envelope["statusChangedDateTime"]
            return
        turn = min(int(s["routingOrder"]) for s in waiting)
        for signer in waiting:
            if int(signer["routingOrder"]) == turn and signer["status"] == "created":
                signer.update(status="sent", sentDateTime=_stamp())

    def _token(self, form: dict[str, list[str]]) -> dict:
        self.token_requests += 1
        refused = _Answer(400, {"error": "invalid_grant", "error_description": "no_valid_keys"})
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            raise _Answer(400, {"error": "unsupported_grant_type"})
        if self.jwt_client is None:
            raise refused
        integration_key, user_id, public_key = self.jwt_client
        try:
            claims = jwt.decode(
                form["assertion"][0], public_key, algorithms=["RS256"], audience=self.oauth_host
            )
        except (KeyError, jwt.InvalidTokenError):
            raise refused from None
        if (claims.get("iss"), claims.get("sub")) != (integration_key, user_id):
            raise refused
        if not {"signature", "impersonation"} <= set(claims.get("scope", "").split()):
            raise _Answer(400, {"error": "consent_required"})
        token = f"token-{uuid.uuid4().hex}"
        self.tokens.add(token)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
        }

    def _create(self, body: dict) -> dict:
        signers = (body.get("recipients") or {}).get("signers") or []
        if not signers or not body.get("documents"):
            raise _error(400, "An envelope needs a document and a signer.")
        for signer in signers:
            if "@" not in (signer.get("email") or ""):
                raise _error(400, "Invalid email address.", "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT")
            if not (signer.get("tabs") or {}).get("signHereTabs"):
                raise _error(400, "A signer has no signature tab.", "SIGNER_NO_SIGNATURE_TAB")
        envelope_id = str(uuid.uuid4())
        now = _stamp()
        envelope = {
            "envelopeId": envelope_id,
            "status": "sent",
            "createdDateTime": now,
            "sentDateTime": now,
            "statusChangedDateTime": now,
            "emailSubject": body.get("emailSubject", ""),
            "emailBlurb": body.get("emailBlurb", ""),
            "documents": {
                d["documentId"]: {"name": d["name"], "pdf": base64.b64decode(d["documentBase64"])}
                for d in body["documents"]
            },
            "signers": [
                {**s, "status": "created", "userId": f"user-{next(self._ids)}"} for s in signers
            ],
            "customFields": body.get("customFields") or {},
            "eventNotification": body.get("eventNotification"),
            "notification": body.get("notification"),
            "audit": [],
        }
        self._route(envelope)
        self.envelopes[envelope_id] = envelope
        self.envelopes_created += 1
        return {"envelopeId": envelope_id, "status": "sent", "statusDateTime": now}

    def _envelope_json(self, envelope: dict, *, custom_fields: bool) -> dict:
        keep = {
            "envelopeId",
            "status",
            "createdDateTime",
            "sentDateTime",
            "statusChangedDateTime",
            "completedDateTime",
            "voidedDateTime",
            "voidedReason",
            "emailSubject",
        }
        answer = {k: v for k, v in envelope.items() if k in keep}
        if custom_fields:
            answer["customFields"] = envelope["customFields"]
        return answer

    def _recipients(self, envelope: dict) -> dict:
        fields = {
            "recipientId",
            "name",
            "email",
            "routingOrder",
            "status",
            "userId",
            "sentDateTime",
            "deliveredDateTime",
            "signedDateTime",
            "declinedDateTime",
            "declinedReason",
        }
        signers = [{k: v for k, v in s.items() if k in fields} for s in envelope["signers"]]
        return {"signers": signers, "recipientCount": str(len(signers))}

    def _status_changes(self, query: dict[str, list[str]]) -> dict:
        if "from_date" not in query and "envelope_ids" not in query:
            raise _error(400, "from_date or envelope_ids is required.", "INVALID_REQUEST_PARAMETER")
        since = dt.datetime.fromisoformat(query["from_date"][0])
        found = [
            e
            for e in self.envelopes.values()
            if dt.datetime.fromisoformat(e["createdDateTime"]) >= since
        ]
        if "custom_field" in query:
            name, _, value = query["custom_field"][0].partition("=")
            found = [
                e
                for e in found
                if any(
                    f.get("name") == name and f.get("value") == value
                    for f in e["customFields"].get("textCustomFields", [])
                )
            ]
        with_fields = "custom_fields" in query.get("include", [""])[0].split(",")
        envelopes = [self._envelope_json(e, custom_fields=with_fields) for e in found]
        return {"resultSetSize": str(len(envelopes)), "envelopes": envelopes}

    def _envelope(self, envelope_id: str) -> dict:
        if envelope_id not in self.envelopes:
            raise _error(404, "The envelope does not exist.")
        return self.envelopes[envelope_id]

    def _void(self, envelope: dict, body: dict) -> dict:
        if body.get("status") != "voided":
            raise _error(400, "Only voiding is supported by this fake.")
        if envelope["status"] not in ("sent", "delivered"):
            raise _error(
                400,
                "Only envelopes in the 'Sent' or 'Delivered' states may be voided.",
                "ENVELOPE_CANNOT_VOID_INVALID_STATE",
            )
        if not body.get("voidedReason"):
            raise _error(400, "A voided reason is required.", "ENVELOPE_VOID_REASON_REQUIRED")
        self._set_status(envelope, "voided")
        envelope.update(voidedReason=body["voidedReason"], voidedDateTime=_stamp())
        return {"envelopeId": envelope["envelopeId"]}

    def _document(self, envelope: dict, document_id: str) -> bytes:
        if document_id == "certificate":
            return certificate_pdf(envelope["envelopeId"])
        if document_id == "combined":
            return b"".join(d["pdf"] for d in envelope["documents"].values())
        if document_id in envelope["documents"]:
            return envelope["documents"][document_id]["pdf"]
        raise _error(404, "The document does not exist.", "DOCUMENT_DOES_NOT_EXIST")

    def _api(self, method: str, url, body: bytes, authorization: str):
        match = API.match(url.path)
        if match is None:
            raise _error(404, url.path, "RESOURCE_NOT_FOUND")
        if authorization.removeprefix("Bearer ") not in self.tokens:
            raise _error(401, "The access token is invalid or has expired.")
        if match["account"] != self.account_id:
            raise _error(400, "Invalid account.", "INVALID_ACCOUNT_ID")
        parts = [p for p in (match["rest"] or "").split("/") if p]
        query = parse_qs(url.query)
        if method == "POST" and not parts:
            return self._create(json.loads(body))
        if method == "GET" and not parts:
            return self._status_changes(query)
        envelope = self._envelope(parts[0])
        if method == "PUT" and len(parts) == 1:
            return self._void(envelope, json.loads(body))
        if method == "GET" and len(parts) == 1:
            return self._envelope_json(envelope, custom_fields=False)
        if method == "GET" and parts[1:] == ["recipients"]:
            return self._recipients(envelope)
        if method == "GET" and parts[1:] == ["audit_events"]:
            return {"auditEvents": envelope["audit"]}
        if method == "GET" and len(parts) == 3 and parts[1] == "documents":
            return self._document(envelope, parts[2])
        raise _error(404, url.path, "RESOURCE_NOT_FOUND")

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def setup(self):
                self.request.do_handshake()
                super().setup()

            def log_message(self, *args):  # keep test output clean
                pass

            def _send(self, status: int, body, headers: dict[str, str] | None = None) -> None:
                if isinstance(body, bytes):
                    data, content_type = body, "application/pdf"
                else:
                    data, content_type = json.dumps(body).encode(), "application/json"
                try:
                    self.send_response(status)
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass  # the client timed out and left

            def _serve(self, method: str) -> None:
                url = urlparse(self.path)
                failure = None
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    if url.path == "/oauth/token":
                        with fake._lock:
                            return self._send(200, fake._token(parse_qs(body.decode())))
                    with fake._lock:
                        fake.requests.append((method, url.path))
                        delay = fake.delays.pop(0) if fake.delays else 0
                        failure = next((f for f in fake.failures if f[3] in (None, method)), None)
                        if failure is not None:
                            fake.failures.remove(failure)
                    if delay:
                        time.sleep(delay)
                    if failure is not None and not failure[2]:
                        raise _error(failure[0], "Injected failure.")
                    with fake._lock:
                        answer = fake._api(method, url, body, self.headers.get("Authorization", ""))
                    if failure is not None:  # done, but the answer is lost on the way back
                        raise _Answer(failure[0], {"errorCode": ERRORS[failure[0]]}, failure[1])
                    return self._send(200 if method != "POST" else 201, answer)
                except _Answer as answer:
                    headers = failure[1] if failure is not None else answer.headers
                    return self._send(answer.status, answer.body, headers)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def do_PUT(self):
                self._serve("PUT")

        return Handler


@contextmanager
def fake_docusign(settings, directory: Path | None = None) -> Iterator[FakeDocusign]:
    """A started fake, the Django settings pointing at it (with a key pair it trusts), and
    the SDK's configuration trusting its TLS certificate; all put back afterwards."""
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(directory or scratch)
        fake = FakeDocusign(directory).start()
        private, public = rsa_key_pair()
        key_file = directory / "docusign-private.pem"
        key_file.write_bytes(private)
        fake.jwt_client = (INTEGRATION_KEY, USER_ID, public)
        settings.DOCUSIGN_INTEGRATION_KEY = INTEGRATION_KEY
        settings.DOCUSIGN_USER_ID = USER_ID
        settings.DOCUSIGN_PRIVATE_KEY_FILE = str(key_file)
        settings.DOCUSIGN_ACCOUNT_ID = ACCOUNT_ID
        settings.DOCUSIGN_BASE_PATH = fake.base_path
        settings.DOCUSIGN_OAUTH_HOST = fake.oauth_host
        settings.DOCUSIGN_CONNECT_HMAC_KEYS = list(fake.hmac_keys)
        settings.DOCUSIGN_TIMEOUT_SECONDS = 5.0
        # The SDK's one Configuration (a singleton): its documented CA-file setting, as a
        # company behind a TLS-inspecting proxy would set it.
        config = Configuration()
        saved = config.ssl_ca_cert
        config.ssl_ca_cert = str(fake.ca_file)
        try:
            yield fake
        finally:
            config.ssl_ca_cert = saved
            fake.stop()
