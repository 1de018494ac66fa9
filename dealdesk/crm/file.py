"""The local backend: one JSON bundle of records exactly as the REST API returns them.

`{"Account": [...], "Product2": [...], "Opportunity": [...], "OpportunityLineItem": [...],
"OpportunityContactRole": [...]}`, so an export from a real org loads unchanged. The bundle
is read whole (a laptop's demo or one org's export); the pages it yields are the same shape
as Salesforce's.
"""

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from dealdesk.crm.base import CRMError, CRMQuery

PAGE_SIZE = 2000


def parse_modstamp(value: str) -> datetime:
    # Salesforce writes "2026-11-20T09:30:00.000+0000"; fromisoformat wants "+00:00".
    return datetime.fromisoformat(value.replace("Z", "+00:00").replace("+0000", "+00:00"))


class FileBackend:
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
            records = [r for r in records if r.get(query.id_field) in wanted]
        if query.since is not None:
            records = [
                r
                for r in records
                if "SystemModstamp" not in r or parse_modstamp(r["SystemModstamp"]) >= query.since
            ]
        records.sort(key=lambda r: (r.get("SystemModstamp") or "", r.get("Id") or ""))
        for start in range(0, len(records), PAGE_SIZE):
            yield records[start : start + PAGE_SIZE]
