"""The Salesforce backend on simple-salesforce (the only module that imports it).

Log-in, in order of preference: an existing session (SALESFORCE_INSTANCE_URL +
SALESFORCE_SESSION_ID: sandboxes, tests), OAuth JWT bearer (username, consumer key, private
key file, login domain), or username/password/security token.

Before the sync's first query the sync asks `describe` for each object's fields (once per
backend instance, that is once per run) to check its configured fields and detect a
single-currency org (dealdesk/crm/mapping.py, `query_fields`).
"""

import re
from collections.abc import Iterator
from datetime import UTC
from urllib.parse import urlparse

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)

from dealdesk.crm.base import CRMError, CRMQuery
from dealdesk.integrations.calls import vendor_call
from dealdesk.integrations.retry import retry_after_seconds, with_retries

# SOQL's IN list in the query string stays below Salesforce's 16 KB URL limit at this many
# 18-character ids (each about 27 characters once quoted and URL-encoded).
IDS_PER_QUERY = 400
# 15 letters and digits (case-sensitive), or 18 with the case-safe suffix.
SALESFORCE_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")


class _RewritingAdapter(HTTPAdapter):
    """Sends the URLs simple-salesforce builds for one https origin to another origin.

    simple-salesforce always builds https://{domain}.salesforce.com for the log-in and
    https://{instance} for the API; a local fake or a proxy needs plain http or another
    host (docs/stack-notes.md, 2).
    """

    def __init__(self, origin: str, target: str) -> None:
        super().__init__()
        self.origin, self.target = origin, target.rstrip("/")

    def send(self, request, *args, **kwargs):
        request.url = self.target + request.url.removeprefix(self.origin)
        return super().send(request, *args, **kwargs)


def _raise_when_busy(response: requests.Response, *args, **kwargs) -> None:
    """A 429 or 503 becomes a retryable CRMError carrying the answer's Retry-After.

    Here, as a response hook, because simple-salesforce's exceptions keep the body of an
    error answer but not its headers.
    """
    if response.status_code in (429, 503):
        response.close()
        raise CRMError(
            f"Salesforce error {response.status_code}",
            retryable=True,
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )


def _http_session() -> requests.Session:
    session = requests.Session()
    session.hooks["response"].append(_raise_when_busy)
    instance = urlparse(settings.SALESFORCE_INSTANCE_URL)
    if instance.scheme == "http":
        origin = f"https://{instance.netloc}"
        session.mount(origin, _RewritingAdapter(origin, f"http://{instance.netloc}"))
    if settings.SALESFORCE_LOGIN_URL:
        origin = f"https://{settings.SALESFORCE_DOMAIN}.salesforce.com"
        session.mount(origin, _RewritingAdapter(origin, settings.SALESFORCE_LOGIN_URL))
    return session


def _connect() -> Salesforce:
    common = {
        "version": settings.SALESFORCE_API_VERSION,
        # Plain dicts: the default OrderedDict hook doubles the JSON parsing time of a page.
        "object_pairs_hook": dict,
        "session": _http_session(),
    }
    if settings.SALESFORCE_SESSION_ID:
        return Salesforce(
            instance_url=settings.SALESFORCE_INSTANCE_URL,
            session_id=settings.SALESFORCE_SESSION_ID,
            **common,
        )
    try:
        if settings.SALESFORCE_PRIVATE_KEY_FILE:
            return Salesforce(
                username=settings.SALESFORCE_USERNAME,
                consumer_key=settings.SALESFORCE_CONSUMER_KEY,
                privatekey_file=settings.SALESFORCE_PRIVATE_KEY_FILE,
                domain=settings.SALESFORCE_DOMAIN,
                **common,
            )
        return Salesforce(
            username=settings.SALESFORCE_USERNAME,
            password=settings.SALESFORCE_PASSWORD,
            security_token=settings.SALESFORCE_SECURITY_TOKEN,
            domain=settings.SALESFORCE_DOMAIN,
            **common,
        )
    except SalesforceError as exc:
        raise CRMError(f"Salesforce log-in failed: {exc}") from exc


def _error(exc: Exception) -> CRMError:
    if isinstance(exc, requests.RequestException):
        return CRMError(f"Salesforce unreachable: {exc}", retryable=True)
    if isinstance(exc, SalesforceExpiredSession):
        return CRMError("Salesforce session expired", code=CRMError.SESSION_EXPIRED)
    content = getattr(exc, "content", None)
    codes = (
        {item.get("errorCode") for item in content if isinstance(item, dict)}
        if (isinstance(content, list))
        else set()
    )
    if isinstance(exc, SalesforceRefusedRequest) and "REQUEST_LIMIT_EXCEEDED" in codes:
        return CRMError(
            "Salesforce API request limit exceeded", code=CRMError.REQUEST_LIMIT_EXCEEDED
        )
    if isinstance(exc, SalesforceGeneralError) and exc.status >= 500:
        return CRMError(f"Salesforce error {exc.status}", retryable=True)
    return CRMError(f"Salesforce refused the query: {exc}")


def soql(query: CRMQuery) -> str:
    where = []
    if query.since is not None:
        stamp = query.since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        where.append(f"SystemModstamp >= {stamp}")
    if query.ids:
        quoted = ",".join(
            "'" + i.replace("\\", "\\\\").replace("'", "\\'") + "'" for i in query.ids
        )
        where.append(f"{query.id_field} IN ({quoted})")
    text = f"SELECT {', '.join(query.fields)} FROM {query.object_name}"  # noqa: S608 - SOQL, names from settings
    if where:
        text += " WHERE " + " AND ".join(where)
    return text + " ORDER BY SystemModstamp, Id"


class SalesforceBackend:
    ids = SALESFORCE_ID

    def __init__(self, client_factory=_connect) -> None:
        self._connect = client_factory
        self._client = client_factory()
        self._reauthenticated = False
        # Object → its field and relationship names; an org's schema does not change mid-run.
        self._described: dict[str, frozenset[str]] = {}

    @classmethod
    def from_settings(cls) -> "SalesforceBackend":
        return cls()

    def describe(self, object_name: str) -> frozenset[str]:
        if object_name not in self._described:
            # Logged as a vendor call; query pages are not: the read-ahead thread fetches
            # them and never touches the database (the sync run records their counts).
            with vendor_call("salesforce", f"describe {object_name}"):
                result = self._call(
                    lambda client: client.restful(
                        f"sobjects/{object_name}/describe",
                        timeout=settings.SALESFORCE_TIMEOUT_SECONDS,
                    )
                )
            self._described[object_name] = frozenset(
                name
                for entry in result["fields"]
                for name in (entry["name"], entry.get("relationshipName"))
                if name
            )
        return self._described[object_name]

    def pages(self, query: CRMQuery) -> Iterator[list[dict]]:
        # queryAll, so records deleted since the watermark come back with IsDeleted = true.
        # Pages are fetched one at a time (nextRecordsUrl): memory holds one page, and a
        # failed page is retried where it stopped rather than from the first.
        id_chunks = [
            query.ids[i : i + IDS_PER_QUERY] for i in range(0, len(query.ids), IDS_PER_QUERY)
        ] or [()]
        for ids in id_chunks:
            chunk = CRMQuery(query.object_name, query.fields, query.since, ids, query.id_field)
            text = soql(chunk)
            result = self._call(
                lambda client, text=text: client.query(
                    text, include_deleted=True, timeout=settings.SALESFORCE_TIMEOUT_SECONDS
                )
            )
            yield result["records"]
            while not result.get("done", True):
                next_url = result["nextRecordsUrl"]
                result = self._call(
                    lambda client, next_url=next_url: client.query_more(
                        next_url,
                        identifier_is_url=True,
                        include_deleted=True,
                        timeout=settings.SALESFORCE_TIMEOUT_SECONDS,
                    )
                )
                yield result["records"]

    def _call(self, request):
        def attempt():
            try:
                return request(self._client)
            except (SalesforceError, requests.RequestException) as exc:
                raise _error(exc) from exc

        try:
            return with_retries(
                attempt,
                retries=settings.CRM_SYNC_RETRIES,
                backoff_seconds=settings.CRM_SYNC_BACKOFF_SECONDS,
            )
        except CRMError as exc:
            # A session may expire mid-run: log in again once per run, then give up.
            if exc.code != CRMError.SESSION_EXPIRED or self._reauthenticated:
                raise
            self._reauthenticated = True
            self._client = self._connect()
            return self._call(request)
