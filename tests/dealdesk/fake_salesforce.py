"""A local fake of Salesforce's REST query API, for the real simple-salesforce client.

Serves GET /services/data/vXX/query and /queryAll (SOQL: SELECT ... FROM obj [WHERE
SystemModstamp >= ts] [AND field IN (...)] ORDER BY ...), nextRecordsUrl pagination, and on
demand the errors Salesforce answers with: 401 INVALID_SESSION_ID, 403
REQUEST_LIMIT_EXCEEDED, 429 and 503 (with `failure_headers`, e.g. Retry-After).
`/query` leaves deleted records out, `/queryAll` keeps them; a query naming a field the
object lacks is refused with 400 INVALID_FIELD, as Salesforce does.
GET /services/data/vXX/sobjects/OBJ/describe lists an object's fields: its standard ones
(`STANDARD_FIELDS`) and every other field its records carry (custom fields,
CurrencyIsoCode). `drop_field` takes a field out of the org; `make_single_currency` takes
CurrencyIsoCode out of every object, as in an org that never turned multi-currency on.
Log-in: POST /services/oauth2/token (OAuth JWT bearer, the assertion checked against
`jwt_public_key`) and POST /services/Soap/u/XX (username, password + security token
against `passwords`); each gives a new session id.

Tests use `FakeSalesforce` in a thread; the benchmark runs this file as a process:
`python tests/dealdesk/fake_salesforce.py BUNDLE.json|module:function` prints its port.
"""

import importlib
import itertools
import json
import re
import sys
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape

SOQL = re.compile(
    r"SELECT (?P<fields>.+?) FROM (?P<object>\w+)(?: WHERE (?P<where>.+?))?(?: ORDER BY .+)?$",
    re.S,
)
ERRORS = {
    401: [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
    403: [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
    429: [{"message": "Too many requests", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
    503: [{"message": "Server unavailable", "errorCode": "SERVER_UNAVAILABLE"}],
}
# Every org has these, whatever its records carry: field → relationship name (or None).
_COMMON = {"Id": None, "IsDeleted": None, "SystemModstamp": None}
STANDARD_FIELDS = {
    "Account": {
        **_COMMON,
        **dict.fromkeys(
            [
                "Name",
                "BillingStreet",
                "BillingCity",
                "BillingState",
                "BillingPostalCode",
                "BillingCountry",
                "NumberOfEmployees",
            ]
        ),
    },
    "Product2": {**_COMMON, **dict.fromkeys(["ProductCode", "Name", "IsActive"])},
    "Opportunity": {
        **_COMMON,
        **dict.fromkeys(["Name", "StageName", "IsWon", "CloseDate", "Amount", "Description"]),
        "AccountId": "Account",
        "OwnerId": "Owner",
    },
    "OpportunityLineItem": {
        **_COMMON,
        **dict.fromkeys(
            ["ProductCode", "Quantity", "UnitPrice", "ListPrice", "Discount", "TotalPrice"]
        ),
        "ServiceDate": None,
        "OpportunityId": "Opportunity",
        "Product2Id": "Product2",
    },
    "OpportunityContactRole": {
        **_COMMON,
        "Role": None,
        "IsPrimary": None,
        "OpportunityId": "Opportunity",
        "ContactId": "Contact",
    },
}


class _Refused(Exception):
    def __init__(self, status: int, body: list[dict]) -> None:
        super().__init__(status, body)
        self.status, self.body = status, body


def _stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00").replace("+0000", "+00:00"))


def _changed_since(value, since: datetime) -> bool:
    """Salesforce's own stamps always parse; a test's malformed one comes back every time,
    so the sync meets it in each run."""
    try:
        return _stamp(value) >= since
    except (AttributeError, TypeError, ValueError):
        return True


class FakeSalesforce:
    def __init__(self, records: dict[str, list[dict]] | None = None, *, page_size=2000):
        self.records = records or {}
        self.page_size = page_size
        self.session_ids = {"test-session"}
        # Log-in: the JWT bearer flow's (consumer key, username, public key PEM), and
        # username → password + security token for the SOAP log-in.
        self.jwt_client: tuple[str, str, bytes] | None = None
        self.passwords: dict[str, str] = {}
        self.logins: list[str] = []
        # Status codes to answer the next requests with, in order (then normal service),
        # with these headers (Retry-After).
        self.failures: list[int] = []
        self.failure_headers: dict[str, str] = {}
        # (object, field) taken out of the org: not described, not queryable, not stored.
        self.dropped: set[tuple[str, str]] = set()
        # Objects whose next pages (nextRecordsUrl) fail with 503 for as long as they are here:
        # Salesforce failing for good half-way through a query, whatever the request order.
        self.broken_next_pages: set[str] = set()
        self.requests: list[str] = []
        self._cursors: dict[str, list[dict]] = {}
        self._indexes: dict[tuple[str, str], dict] = {}
        self._schemas: dict[str, dict[str, str | None]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "FakeSalesforce":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _index(self, object_name: str, field: str) -> dict[str, list[dict]]:
        """Records by a field's value, so `field IN (...)` does not scan (the benchmark's org)."""
        key = (object_name, field)
        if key not in self._indexes:
            index: dict[str, list[dict]] = {}
            for record in self.records.get(object_name, []):
                if isinstance(record.get(field), str):  # only a string matches a quoted id
                    index.setdefault(record[field], []).append(record)
            self._indexes[key] = index
        return self._indexes[key]

    def put(self, object_name: str, record: dict) -> None:
        """Insert or replace a record by Id (without the fields the org does not have)."""
        self._indexes.clear()
        self._schemas.clear()
        record = {k: v for k, v in record.items() if (object_name, k) not in self.dropped}
        rows = self.records.setdefault(object_name, [])
        rows[:] = [r for r in rows if r["Id"] != record["Id"]] + [record]

    def drop_field(self, object_name: str, field: str) -> None:
        """The org has no such field (never created, or deleted): its values go too."""
        self._indexes.clear()
        self._schemas.clear()
        self.dropped.add((object_name, field))
        for record in self.records.get(object_name, []):
            record.pop(field, None)

    def make_single_currency(self) -> None:
        """An org without multi-currency: no object has CurrencyIsoCode."""
        for object_name in {*STANDARD_FIELDS, *self.records}:
            self.drop_field(object_name, "CurrencyIsoCode")

    def schema(self, object_name: str) -> dict[str, str | None]:
        """Field name → relationship name: the standard fields and those the records carry."""
        if object_name not in self._schemas:
            fields = dict(STANDARD_FIELDS.get(object_name, _COMMON))
            for record in self.records.get(object_name, []):
                for key, value in record.items():
                    if isinstance(value, dict):  # a parent record: `Contact` of ContactId
                        if key != "attributes":
                            fields[f"{key}Id"] = key
                    else:
                        fields.setdefault(key, None)
            self._schemas[object_name] = {
                name: relationship
                for name, relationship in fields.items()
                if (object_name, name) not in self.dropped
            }
        return self._schemas[object_name]

    def _describe(self, object_name: str) -> dict:
        if object_name not in STANDARD_FIELDS and object_name not in self.records:
            raise _Refused(404, [{"errorCode": "NOT_FOUND", "message": object_name}])
        return {
            "name": object_name,
            "fields": [
                {"name": name, "relationshipName": relationship, "custom": name.endswith("__c")}
                for name, relationship in self.schema(object_name).items()
            ],
        }

    def _select(self, soql: str, include_deleted: bool) -> list[dict]:
        match = SOQL.match(soql.strip())
        if match is None:
            raise ValueError(f"fake cannot parse {soql!r}")
        fields = [f.strip() for f in match["fields"].split(",")]
        schema = self.schema(match["object"])
        known = {*schema, *(r for r in schema.values() if r)}
        for name in fields:
            if name.split(".")[0] not in known:
                raise _Refused(
                    400,
                    [
                        {
                            "errorCode": "INVALID_FIELD",
                            "message": f"No such column '{name}' on entity '{match['object']}'",
                        }
                    ],
                )
        rows = self.records.get(match["object"], [])
        clauses = [c for c in (match["where"] or "").split(" AND ") if c]
        for clause in sorted(clauses, key=lambda c: ">=" in c):  # IN first: it narrows most
            if ">=" in clause:
                name, value = (p.strip() for p in clause.split(">="))
                since = _stamp(value)
                rows = [r for r in rows if _changed_since(r.get(name), since)]
            else:
                name, values = re.match(r"(\w+) IN \((.*)\)", clause).groups()
                wanted = [v.strip().strip("'") for v in values.split(",")]
                index = (
                    self._index(match["object"], name)
                    if rows is self.records.get(match["object"])
                    else None
                )
                if index is None:
                    rows = [r for r in rows if isinstance(r.get(name), str) and r[name] in wanted]
                else:
                    rows = [r for key in dict.fromkeys(wanted) for r in index.get(key, [])]
        if not include_deleted:
            rows = [r for r in rows if not r.get("IsDeleted")]
        # str(): a test's malformed record (a number for a stamp or an id) still sorts.
        rows = sorted(rows, key=lambda r: (str(r.get("SystemModstamp", "")), str(r["Id"])))
        tops = {f.split(".")[0] for f in fields}
        return [
            {"attributes": {"type": match["object"]}, **{k: v for k, v in r.items() if k in tops}}
            for r in rows
        ]

    def _page(self, rows: list[dict], version: str, endpoint: str) -> dict:
        page, rest = rows[: self.page_size], rows[self.page_size :]
        body = {"totalSize": len(rows), "done": not rest, "records": page}
        if rest:
            cursor = f"01gFAKE{next(self._ids):011d}"
            with self._lock:
                self._cursors[cursor] = rest
            body["nextRecordsUrl"] = f"/services/data/v{version}/{endpoint}/{cursor}-2000"
        return body

    def _new_session(self, flow: str) -> str:
        session_id = f"00D!{flow}-{next(self._ids)}"
        with self._lock:
            self.session_ids.add(session_id)
            self.logins.append(flow)
        return session_id

    def _token_login(self, form: dict[str, list[str]]) -> tuple[int, dict]:
        import jwt  # the SDK's own JWT library, to check what it signed

        refused = (400, {"error": "invalid_grant", "error_description": "user hasn't approved"})
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return 400, {"error": "unsupported_grant_type"}
        if self.jwt_client is None:
            return refused
        consumer_key, username, public_key = self.jwt_client
        try:
            claims = jwt.decode(
                form["assertion"][0],
                public_key,
                algorithms=["RS256"],
                audience=["https://login.salesforce.com", "https://test.salesforce.com"],
            )
        except (KeyError, jwt.InvalidTokenError):
            return refused
        if (claims.get("iss"), claims.get("sub")) != (consumer_key, username):
            return refused
        return 200, {
            "access_token": self._new_session("jwt"),
            "instance_url": self.url,
            "token_type": "Bearer",
        }

    def _soap_login(self, body: str) -> tuple[int, str]:
        def value(tag: str) -> str:
            found = re.search(rf"<n1:{tag}>(.*?)</n1:{tag}>", body, re.S)
            return found.group(1) if found else ""

        envelope = '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body>{}</soapenv:Body></soapenv:Envelope>'
        expected = self.passwords.get(value("username"))
        if expected is None or value("password") != escape(expected):
            message = "Invalid username, password, security token; or user locked out."
            return 500, envelope.format(
                "<soapenv:Fault><faultcode>INVALID_LOGIN</faultcode><detail><sf:LoginFault>"
                "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>"
                f"<sf:exceptionMessage>{message}</sf:exceptionMessage>"
                "</sf:LoginFault></detail></soapenv:Fault>"
            )
        return 200, envelope.format(
            '<loginResponse xmlns="urn:partner.soap.sforce.com"><result>'
            f"<serverUrl>{self.url}/services/Soap/u/62.0/00D000000000001</serverUrl>"
            f"<sessionId>{self._new_session('password')}</sessionId>"
            "</result></loginResponse>"
        )

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _send(self, status: int, body, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                path = urlparse(self.path).path
                if path == "/services/oauth2/token":
                    return self._send(*fake._token_login(parse_qs(body)))
                if re.fullmatch(r"/services/Soap/u/[\d.]+", path):
                    status, xml = fake._soap_login(body)
                    data = xml.encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "text/xml; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return None
                return self._send(404, [{"errorCode": "NOT_FOUND", "message": path}])

            def do_GET(self):
                url = urlparse(self.path)
                fake.requests.append(self.path)
                if fake.failures:
                    status = fake.failures.pop(0)
                    return self._send(status, ERRORS[status], fake.failure_headers)
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if token not in fake.session_ids:
                    return self._send(401, ERRORS[401])
                try:
                    return self._get(url)
                except _Refused as refused:
                    return self._send(refused.status, refused.body)

            def _get(self, url):
                describe = re.fullmatch(
                    r"/services/data/v[\d.]+/sobjects/(\w+)/describe/?", url.path
                )
                if describe is not None:
                    return self._send(200, fake._describe(describe.group(1)))
                match = re.match(r"/services/data/v([\d.]+)/(queryAll|query)/?(\S*)", url.path)
                if match is None:
                    return self._send(404, [{"errorCode": "NOT_FOUND", "message": url.path}])
                version, endpoint, cursor = match.groups()
                if cursor:
                    with fake._lock:
                        rows = fake._cursors.get(cursor.split("-")[0])
                        if rows and rows[0]["attributes"]["type"] in fake.broken_next_pages:
                            return self._send(503, ERRORS[503])
                        rows = fake._cursors.pop(cursor.split("-")[0], None)
                    if rows is None:
                        return self._send(400, [{"errorCode": "INVALID_QUERY_LOCATOR"}])
                else:
                    soql = parse_qs(url.query)["q"][0]
                    rows = fake._select(soql, endpoint == "queryAll")
                return self._send(200, fake._page(rows, version, endpoint))

        return Handler


if __name__ == "__main__":
    # A JSON bundle, or module:function returning one (the benchmark builds its org here,
    # so that its own process stays small).
    source = sys.argv[1]
    if source.endswith(".json"):
        with open(source, encoding="utf-8") as bundle:
            records = json.load(bundle)
    else:
        module, function = source.split(":")
        records = getattr(importlib.import_module(module), function)()
    server = FakeSalesforce(records)
    print(server.server.server_address[1], flush=True)
    server.server.serve_forever()
