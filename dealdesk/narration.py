"""Audit events and history rows in words a person reads: who (full name and role), what
(the action's label from audit.actions) and the details (field labels, amounts with their
currency, states by their names, reasons as written).

One module for the deal page's timeline and the auditors' audit log, so both say the same
thing the same way. A `Narrator` loads what the words need for a batch of events (the
actors' roles, pattern names, what each approval request was about) in a few queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst

from audit.actions import LEGACY, Action, action_label, canonical_action
from audit.models import AuditEvent
from dealdesk.models import Deal, DealPattern, DealState
from dealdesk.roles import Role
from dealdesk.templatetags.dealdesk import money

# Keys whose values mean nothing to a reader (hashes, storage paths, bookkeeping times).
_HIDDEN = {
    "content_hash",
    "sha256",
    "expected_sha256",
    "found",
    "file",
    "deal_id",
    "updated_at",
    "state_changed_at",
    "priced_at",
    "request",
    "document_sha256",
    "consent_sha256",
    "drawn_signature_sha256",
    "certificate_sha256",
    "executed_sha256",
    "user_agent",
    "name",
    "signers",
    "order_sha256",
    "diff",  # shown side by side on the deal's Billing card
}
_LABELS = {
    "state": "State",
    "status": "Status",
    "state_reason": "Why",
    "reason": "Why",
    "pattern": "Pattern",
    "owner": "Owner",
    "terms_edited_by": "Terms last edited by",
    "effective_discount_pct": "Effective discount",
    "discount_pct": "Discount",
    "lines": "Lines",
    "contacts": "Contacts",
    "number": "Contract version",
    "by_number": "Replaced by contract version",
    "made_by": "Made by",
    "extractor": "Clauses read by",
    "group": "Group",
    "step": "Step",
    "delegate_for": "On behalf of",
    "delegator": "Delegated by",
    "delegate": "Delegate",
    "kind": "Document",
    "error": "Error",
    "retryable": "Will be retried",
    "changes": "Changes",
    "title": "Title",
    "version": "Version",
    "ip": "IP address",
    "email": "E-mail",
    "signer": "Signer",
    "typed_name": "Typed name",
    "via": "Through",
}
_MONEY = {"tcv", "acv", "arr", "lines_total", "first_year_value", "crm_amount", "amount"}
_STATE_WORDS = dict(DealState.choices)
_ROLE_ORDER = {role.value: i for i, role in enumerate(Role)}
_OPENED = {Action.APPROVAL_REQUEST_OPENED.value} | {
    old for old, new in LEGACY.items() if new == Action.APPROVAL_REQUEST_OPENED
}
REQUEST_TYPE = "approvals.approvalrequest"


_ACRONYMS = {"sla": "SLA", "po": "PO", "crm": "CRM", "tcv": "TCV", "mfn": "MFN", "pct": "%"}


def words(name: str) -> str:
    """A code name as words: "legal_review" → "Legal review", "uptime_pct" → "Uptime %"."""
    parts = str(name).replace(".", "_").strip("_").split("_")
    text = " ".join(_ACRONYMS.get(part, part) for part in parts if part)
    return text[:1].upper() + text[1:]


def field_label(key: str) -> str:
    if key in _LABELS:
        return _LABELS[key]
    try:
        field = Deal._meta.get_field(key)
    except FieldDoesNotExist:
        return words(key)
    # A reverse relation (a deal's `invoices`, say) has no verbose name of its own.
    return capfirst(getattr(field, "verbose_name", "")) or words(key)


def _pct(value: Any) -> str:
    try:
        return f"{Decimal(str(value)).normalize():f} %"
    except InvalidOperation:
        return str(value)


@dataclass(frozen=True)
class Narration:
    actor: str
    title: str
    details: Sequence[str]


class Narrator:
    """Words for a batch of events (and history rows by the given users)."""

    def __init__(self, events: Sequence[AuditEvent], *, users: Iterable = ()) -> None:
        actors = {e.actor for e in events if e.actor_id is not None}
        actors |= {u for u in users if u is not None}
        self._people = _people(actors)
        self._patterns = dict(DealPattern.objects.values_list("code", "name"))
        self._requests = _request_summaries(events)

    def person(self, user) -> str:
        if user is None:
            return "System"
        return self._people.get(user.pk) or user.get_username()

    def actor(self, event: AuditEvent) -> str:
        if event.actor_id is None and event.data.get("name"):
            # A customer's signer acting through their link: no user of ours, named by data.
            return f"{event.data['name']} ({event.data.get('role', 'signer')})"
        if event.actor_id is None:
            return "System" if event.actor_username in ("", "system") else event.actor_username
        return self.person(event.actor)

    def event(self, event: AuditEvent, *, currency: str = "") -> Narration:
        currency = event.after.get("currency") or event.before.get("currency") or currency
        return Narration(
            actor=self.actor(event),
            title=action_label(event.action),
            details=self._details(event, currency),
        )

    def changes(self, changes: Iterable[tuple[str, Any, Any]], *, currency: str = "") -> list[str]:
        """(field, old, new) → "Label: old → new", hidden fields left out."""
        return [
            f"{field_label(key)}: {self.value(key, old, currency)} → "
            f"{self.value(key, new, currency)}"
            for key, old, new in changes
            if key not in _HIDDEN
        ]

    def value(self, key: str, value: Any, currency: str = "") -> str:
        if value is None or value == "" or value == []:
            return "—"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if key in _MONEY:
            try:
                return money(Decimal(str(value)), currency)
            except InvalidOperation:
                return str(value)
        if key.endswith("_pct"):
            return _pct(value)
        if key in ("state", "status"):
            return _STATE_WORDS.get(value) or words(value)
        if key == "pattern" and value in self._patterns:
            return self._patterns[value]
        if key == "kind":
            return str(value).upper()
        if isinstance(value, list):
            if all(isinstance(item, str | int | Decimal) for item in value):
                return ", ".join(str(item) for item in value)
            return str(len(value))
        if isinstance(value, dict):
            return "; ".join(
                f"{field_label(k)} {self.value(k, v, currency)}"
                for k, v in value.items()
                if k not in _HIDDEN
            )
        return str(value)

    def _values(self, values: dict, currency: str) -> list[str]:
        return [
            f"{field_label(key)}: {self.value(key, value, currency)}"
            for key, value in values.items()
            if key not in _HIDDEN
        ]

    def _details(self, event: AuditEvent, currency: str) -> list[str]:
        action = canonical_action(event.action)
        before, after, data = event.before or {}, event.after or {}, dict(event.data or {})
        special = _SPECIAL.get(action)
        if special is not None:
            return special(self, event, currency)
        changed = [(k, v, after.get(k)) for k, v in before.items() if v != after.get(k)]
        details = self.changes(changed, currency=currency)
        details += self._values({k: v for k, v in after.items() if k not in before}, currency)
        return details + self._values(data, currency)

    # --- events whose data needs its own sentence -------------------------------------------

    def _drafted(self, event: AuditEvent, currency: str) -> list[str]:
        after, data = event.after, event.data
        details = [
            f"Contract v{after.get('number', '?')}, {self.value('state', after.get('state'))}"
        ]
        if data.get("made_by"):
            details.append(f"Made by: {data['made_by']}")
        reasons = data.get("review_reasons") or []
        details.append(
            f"Why Legal reads it: {'; '.join(reasons)}" if reasons else "No legal review needed"
        )
        return details

    def _gates(self, event: AuditEvent, currency: str) -> list[str]:
        details = ["All gates passed" if event.after.get("passed") else "Some gates failed"]
        for gate in event.data.get("gates", []):
            if not gate.get("passed"):
                details.append(f"{words(gate['gate'])} failed: {'; '.join(gate['reasons'])}")
        required = event.data.get("required", [])
        details.append(
            "Needs approval from " + ", ".join(f"{r['group']} (step {r['step']})" for r in required)
            if required
            else "No approval needed"
        )
        return details

    def _request(self, event: AuditEvent, currency: str) -> list[str]:
        summary = self._requests.get(event.object_id)
        details = [summary] if summary else []
        if event.data.get("delegate_for"):
            details.append(f"On behalf of: {event.data['delegate_for']}")
        return details

    def _clause(self, event: AuditEvent, currency: str) -> list[str]:
        data = event.data
        where = f"Clause {data['index'] + 1}" if isinstance(data.get("index"), int) else "Clause"
        details = [f"{where}: {words(data.get('type', ''))}"]
        if "before" in data and "after" in data:
            old, new = data["before"] or {}, data["after"] or {}
            details += [
                f"{words(key)}: {old.get(key) if old.get(key) is not None else '—'} → "
                f"{new.get(key) if new.get(key) is not None else '—'}"
                for key in dict.fromkeys([*old, *new])
                if old.get(key) != new.get(key)
            ]
        elif data.get("params"):
            details.append(
                ", ".join(f"{words(k)} {v}" for k, v in data["params"].items() if v is not None)
            )
        if data.get("quote"):
            details.append(f"From the notes: “{data['quote']}”")
        return details


_SPECIAL = {
    Action.CONTRACT_VERSION_DRAFTED: Narrator._drafted,
    Action.CONTRACT_VERSION_GATES_EVALUATED: Narrator._gates,
    Action.APPROVAL_REQUEST_OPENED: Narrator._request,
    Action.APPROVAL_REQUEST_APPROVED: Narrator._request,
    Action.APPROVAL_REQUEST_REJECTED: Narrator._request,
    Action.CONTRACT_VERSION_CLAUSE_ACCEPTED: Narrator._clause,
    Action.CONTRACT_VERSION_CLAUSE_EDITED: Narrator._clause,
    Action.CONTRACT_VERSION_CLAUSE_REJECTED: Narrator._clause,
    Action.CONTRACT_VERSION_CLAUSE_ADDED: Narrator._clause,
}


def _people(users: Iterable) -> dict[int, str]:
    """user pk → "Fran Lee (Finance)": full name (else username) and roles, in one query."""
    users = {u.pk: u for u in users}
    roles: dict[int, list[str]] = defaultdict(list)
    for user_id, name in Group.objects.filter(user__in=list(users)).values_list("user", "name"):
        roles[user_id].append(name)
    names = {}
    for pk, user in users.items():
        name = user.get_full_name() or user.get_username()
        held = sorted(roles[pk], key=lambda r: (_ROLE_ORDER.get(r, len(_ROLE_ORDER)), r))
        names[pk] = f"{name} ({', '.join(held)})" if held else name
    return names


def _request_summaries(events: Sequence[AuditEvent]) -> dict[str, str]:
    """request id → "Finance (step 1) — <why it was asked>", from the requests' opening events
    (one query; only when the batch has request events)."""
    ids = {e.object_id for e in events if e.object_type == REQUEST_TYPE}
    if not ids:
        return {}
    opened = AuditEvent.objects.filter(
        object_type=REQUEST_TYPE, object_id__in=ids, action__in=_OPENED
    ).values_list("object_id", "after", "data")
    return {
        object_id: f"{after.get('group', '?')} (step {after.get('step', '?')}) — "
        + "; ".join(data.get("reasons", []))
        for object_id, after, data in opened
    }
