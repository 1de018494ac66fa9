"""The local backend: one JSON bundle of records exactly as the REST API returns them.

`{"Account": [...], "Product2": [...], "Opportunity": [...], "OpportunityLineItem": [...],
"OpportunityContactRole": [...]}`, so an export from a real org loads unchanged. The bundle
is read whole (a laptop's demo or one org's export); the pages it yields are the same shape
as Salesforce's.
"""

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from dealdesk.crm.base import CRMError, CRMQuery

PAGE_SIZE = 2000
# An export from a real org carries Salesforce's ids; a bundle made by hand, like the demo's,
# shorter ones ("001A000001"). Either way letters and digits that fit the id columns.
BUNDLE_ID = re.compile(r"[A-Za-z0-9]{1,18}")


def parse_modstamp(value) -> datetime:
    """Salesforce writes "2026-11-20T09:30:00.000+0000"; fromisoformat wants "+00:00".
    Raises ValueError for anything else, a stamp without a zone included (it cannot be
    compared with a watermark)."""
    if not isinstance(value, str):
        raise ValueError(f"not text: {value!r}")
    stamp = datetime.fromisoformat(value.replace("Z", "+00:00").replace("+0000", "+00:00"))
    if stamp.tzinfo is None:
        raise ValueError(f"no time zone: {value!r}")
    return stamp


def _text(record: dict, name: str) -> str:
    """A field as text for matching and ordering: a bundle may hold anything, and the sync,
    not the backend, quarantines what is malformed."""
    value = record.get(name)
    return value if isinstance(value, str) else ""


def _changed_since(record: dict, since: datetime) -> bool:
    try:
        return parse_modstamp(record["SystemModstamp"]) >= since
    except (KeyError, ValueError):
        return True  # no stamp to go by: handed on, and the sync says what is wrong


class FileBackend:
    ids = BUNDLE_ID

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def _records(self, object_name: str) -> list[dict]:
        try:
            bundle = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise CRMError(f"CRM bundle {self.path} does not exist") from exc
        except json.JSONDecodeError as exc:
            raise CRMError(f"CRM bundle {self.path} is not valid JSON: {exc}") from exc
        return bundle.get(object_name, [])

    def describe(self, object_name: str) -> None:
        # An export carries records, not the org's schema: a field missing from a record
        # reads as empty, as the mapping expects of a blank field.
        return None

    def pages(self, query: CRMQuery) -> Iterator[list[dict]]:
        records = self._records(query.object_name)
        if query.ids:
            wanted = set(query.ids)
            records = [r for r in records if _text(r, query.id_field) in wanted]
        if query.since is not None:
            records = [r for r in records if _changed_since(r, query.since)]
        records.sort(key=lambda r: (_text(r, "SystemModstamp"), _text(r, "Id")))
        for start in range(0, len(records), PAGE_SIZE):
            yield records[start : start + PAGE_SIZE]
