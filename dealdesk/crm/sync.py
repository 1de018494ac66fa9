"""The CRM sync: pages of CRM records → accounts, catalog products, deals and their lines.

Objects are synced in dependency order (accounts and products before the deals that use
them), each incrementally from its watermark less an overlap window. Every page is one
transaction, looked up in bulk (one query per kind of row, not per record), compared in
Python, and only what changed is written; a record that did not change writes nothing.
A watermark moves only when its object's pass has finished, so a run that dies half-way
leaves it where it was and the next run fetches those records again: the pages it had
already written come back unchanged and cost nothing. Before the first query the org's
schema is checked (`mapping.query_fields`): a missing field stops the run with nothing written.
One bad record never stops a run: each page is screened first (`mapping.screen`: ids, stamp,
flags, an id twice in one batch), then mapped, and what fails either is quarantined with its
reason while the rest is written and the watermark moves on.
"""

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import OperationalError, transaction
from django.db.models import F
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from dealdesk import services
from dealdesk.bulk import bulk_insert_with_history
from dealdesk.crm import CRMBackend, CRMError, CRMQuery, crm_backend
from dealdesk.crm.base import read_ahead
from dealdesk.crm.lock import sync_run_release, sync_run_start
from dealdesk.crm.mapping import (
    DEAL_FIELDS,
    LINE_FIELDS,
    account_currency,
    is_crm_id,
    map_account,
    map_contact_role,
    map_line,
    map_opportunity,
    map_product,
    query_fields,
    screen,
    storable,
)
from dealdesk.crm.models import CrmOwner, CrmWatermark, QuarantinedRecord, SyncRun
from dealdesk.crm.services import (
    EDITABLE,
    DealChange,
    crm_sync_user,
    deal_apply_crm_change,
    drift_record,
)
from dealdesk.lookups import AnyOf
from dealdesk.models import (
    CANCELLABLE,
    Account,
    Contact,
    Deal,
    DealContact,
    DealLine,
    DealState,
    Product,
)

# Contact roles change without touching their opportunity's SystemModstamp: they are a
# query of their own, after the deals they belong to.
OBJECTS = ["Account", "Product2", "Opportunity", "OpportunityLineItem", "OpportunityContactRole"]
SYNC_REASON = "CRM sync"
# How a new deal held back by a child record names it.
CHILD_LABELS = {"OpportunityLineItem": "line", "OpportunityContactRole": "contact role"}


@dataclass(frozen=True)
class DealRow:
    """What the sync compares of an existing deal. Plain values: building 20,000 Deal
    instances (django-fsm wraps each) to compare a dozen fields costs more than comparing."""

    pk: int
    state: str
    values: dict


def _deal_rows(crm_ids: list[str], fields: list[str]) -> dict[str, DealRow]:
    rows = Deal.objects.filter(AnyOf(F("crm_id"), crm_ids)).values_list(
        "crm_id", "pk", "state", *fields
    )
    return {
        crm_id: DealRow(pk, state, dict(zip(fields, values, strict=True)))
        for crm_id, pk, state, *values in rows
    }


def _child_reason(object_name: str, crm_id: str, reasons: list[str]) -> str:
    """Why a new deal waits, in its own quarantine reason: which child, and why."""
    return f"{CHILD_LABELS[object_name]} {crm_id}: {'; '.join(reasons)}"


log = logging.getLogger(__name__)
DEADLOCK_ATTEMPTS = 3


def _lost_a_deadlock(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) == "40P01"


@dataclass
class Counts:
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    deleted: int = 0
    skipped: int = 0  # not ours to import: open or lost opportunities, their lines
    seconds: float = 0.0


def crm_sync(
    *,
    full: bool = False,
    triggered_by: AbstractBaseUser | None = None,
    backend: CRMBackend | None = None,
) -> SyncRun:
    """One sync run; raises lock.SyncAlreadyRunning if another one holds the lock."""
    run = sync_run_start(full=full, triggered_by=triggered_by)
    try:
        # Inside: a backend logs in as it is made, and a refused log-in fails the run.
        backend = backend or crm_backend()
        for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
            try:
                CrmSync(backend=backend, run=run).run()
                break
            except OperationalError as exc:
                if not _lost_a_deadlock(exc) or attempt == DEADLOCK_ATTEMPTS:
                    raise
                # PostgreSQL chose this page's transaction to break a lock cycle with a
                # pipeline step; it was rolled back whole. Pages committed before are
                # idempotent and the watermark moves only at an object's end, so the run
                # starts over: a fresh CrmSync, no half-kept state of the lost page.
                log.warning("CRM sync lost a deadlock (attempt %s): running again", attempt)
                run.errors = [
                    *run.errors,
                    f"attempt {attempt} lost a deadlock with another writer and was run again "
                    "(its committed pages count as unchanged in the figures)",
                ]
        run.status = SyncRun.Status.SUCCEEDED
    except CRMError as exc:
        limited = exc.code == CRMError.REQUEST_LIMIT_EXCEEDED
        run.status = SyncRun.Status.LIMITED if limited else SyncRun.Status.FAILED
        run.errors = [*run.errors, str(exc)]
    except Exception as exc:
        run.status = SyncRun.Status.FAILED
        run.errors = [*run.errors, f"{type(exc).__name__}: {exc}"]
        raise
    finally:
        run.finished_at = timezone.now()
        run._change_reason = run.status
        run.save()
        sync_run_release()
    return run


class CrmSync:
    def __init__(self, *, backend: CRMBackend, run: SyncRun) -> None:
        self.backend = backend
        self.run_row = run
        self.full = run.full
        self.actor = crm_sync_user()
        self.counts: dict[str, Counts] = {}
        self.fields: dict[str, list[str]] = {}
        self.seen: dict[str, set[str]] = defaultdict(set)
        self.created_deals: set[str] = set()
        self.products: dict[str, Product] = {}
        self.unmapped_owners: set[str] = set()
        # Every record ever quarantined (a few hundred at most): pages with none of them
        # skip the quarantine lookup.
        self.quarantined = set(QuarantinedRecord.objects.values_list("object_name", "crm_id"))
        # Quarantined by this run: a new deal's bad line is counted when its deal is built,
        # not a second time as skipped when the line's own page arrives.
        self.quarantined_now: set[tuple[str, str]] = set()

    def run(self) -> None:
        handlers: dict[str, Callable[[list[dict]], None]] = {
            "Account": self._accounts,
            "Product2": self._products,
            "Opportunity": self._opportunities,
            "OpportunityLineItem": self._lines,
            "OpportunityContactRole": self._contact_roles,
        }
        self.counts = {name: Counts() for name in OBJECTS}
        try:
            self.fields = query_fields(self.backend)
            for name in OBJECTS:
                if name == "Opportunity":
                    self.products = {p.sku: p for p in Product.objects.all()}
                began = time.monotonic()
                self._sync_object(name, handlers[name])
                self.counts[name].seconds = round(time.monotonic() - began, 2)
        finally:
            self.run_row.counts = {name: asdict(c) for name, c in self.counts.items()}
            for owner in sorted(self.unmapped_owners):
                self.run_row.errors.append(
                    f"CRM owner {owner} is mapped to no Dealdesk user: its deals belong to "
                    f"{self.actor.username} until it is mapped (admin → CRM owners)"
                )

    # -- paging, watermarks, quarantine ---------------------------------------------------

    def _sync_object(self, name: str, handler: Callable[[list[dict]], None]) -> None:
        mark = CrmWatermark.objects.filter(object_name=name).first()
        since = None
        if mark is not None and not self.full:
            since = mark.modstamp - timedelta(minutes=settings.CRM_SYNC_OVERLAP_MINUTES)
        newest = None
        fields = self.fields[name]
        for page in read_ahead(self.backend.pages(CRMQuery(name, fields, since=since))):
            stamp = self._page(name, page, handler)
            if stamp is not None:
                newest = max(newest or stamp, stamp)
        # Records quarantined earlier are asked for again: a fix in the CRM may not move
        # their SystemModstamp past the watermark (a line's fix, an account created since).
        # Not those under a malformed id: Salesforce refuses the whole query for one
        # (MALFORMED_ID).
        retry = sorted(
            crm_id
            for crm_id in set(
                QuarantinedRecord.objects.filter(object_name=name, resolved_at=None).values_list(
                    "crm_id", flat=True
                )
            )
            - self.seen[name]
            if is_crm_id(crm_id, self.backend.ids)
        )
        if retry:
            for page in read_ahead(self.backend.pages(CRMQuery(name, fields, ids=retry))):
                self._page(name, page, handler)
        if newest is not None and (mark is None or newest > mark.modstamp):
            mark = mark or CrmWatermark(object_name=name)
            mark.modstamp = newest
            mark._history_user = self.actor
            mark.save()

    def _page(self, name: str, page: list[dict], handler) -> datetime | None:
        """Write one page; its newest SystemModstamp, for the watermark."""
        counts = self.counts[name]
        counts.fetched += len(page)
        screened = screen(name, page, self.backend.ids)
        keys = [r.key for r in screened.rejected]
        self.seen[name].update(keys)
        self.seen[name].update(r["Id"] for r in screened.good)
        with transaction.atomic():
            self.quarantine = self._quarantine_entries(
                name, [*keys, *(r["Id"] for r in screened.good)]
            )
            for rejected in screened.rejected:
                counts.quarantined += rejected.records
                self._quarantine(name, rejected.key, rejected.raw, rejected.reasons)
            handler(screened.good)
        return screened.newest

    def _quarantine_entries(self, name: str, crm_ids: list[str]) -> dict:
        """This page's quarantine rows by (object, CRM id); asks only for ids known to have one."""
        wanted = [i for i in crm_ids if (name, i) in self.quarantined]
        if not wanted:
            return {}
        entries = QuarantinedRecord.objects.filter(object_name=name, crm_id__in=wanted)
        return {(name, q.crm_id): q for q in entries}

    def _quarantine(self, name: str, key: str, raw, reasons: Iterable[str]) -> None:
        """Write (or keep) the record's quarantine entry; the caller counts it where the
        record was fetched, so each object's counts add up to what it fetched."""
        self.quarantined_now.add((name, key))
        reason = "; ".join(reasons)
        raw = storable(raw)
        entry = self.quarantine.get((name, key))
        if (
            entry is not None
            and entry.resolved_at is None
            and entry.reason == reason
            and entry.raw == raw
        ):
            return  # quarantined before for the same reason: nothing to write
        entry = entry or QuarantinedRecord(object_name=name, crm_id=key)
        entry.reason, entry.raw, entry.resolved_at = reason, raw, None
        entry._history_user, entry._change_reason = self.actor, "quarantined"
        entry.save()
        self.quarantine[name, key] = entry
        self.quarantined.add((name, key))

    def _resolve(self, name: str, record: dict) -> None:
        entry = self.quarantine.get((name, record["Id"]))
        if entry is not None and entry.resolved_at is None:
            entry.resolved_at = timezone.now()
            entry.raw = storable(record)
            entry._history_user, entry._change_reason = self.actor, "a good version arrived"
            entry.save()

    def _count_childless(self, counts: Counts, name: str, record: dict) -> None:
        """A line or contact role whose deal is not in Dealdesk: quarantined if this run
        quarantined it when building a new deal, else not ours to import (skipped)."""
        if (name, record["Id"]) in self.quarantined_now:
            counts.quarantined += 1
        else:
            counts.skipped += 1

    def _write(self, model, new: list, changed: list, fields: list[str], counts: Counts) -> None:
        if new:
            bulk_insert_with_history(new, user=self.actor, reason=SYNC_REASON)
        if changed:
            now = timezone.now()
            for obj in changed:
                obj.updated_at = now
            bulk_update_with_history(
                changed,
                model,
                [*fields, "updated_at"],
                default_user=self.actor,
                default_change_reason=SYNC_REASON,
            )
        counts.created += len(new)
        counts.updated += len(changed)

    # -- one handler per object -----------------------------------------------------------

    def _upsert(self, name, page, model, key, key_of, mapper, build) -> None:
        counts = self.counts[name]
        mapped = {}
        for record in page:
            if record.get("IsDeleted"):
                counts.skipped += 1  # accounts and products stay: deals refer to them
                continue
            result = mapper(record)
            if result.reasons:
                counts.quarantined += 1
                self._quarantine(name, record["Id"], record, result.reasons)
                continue
            self._resolve(name, record)
            mapped[key_of(record, result.values)] = (record, result.values)
        existing = model.objects.filter(**{f"{key}__in": list(mapped)}).in_bulk(field_name=key)
        new, changed = [], []
        fields = set()
        for natural_key, (record, values) in mapped.items():
            obj = existing.get(natural_key)
            if obj is None:
                new.append(build(record, values))
                continue
            diff = [f for f, v in values.items() if getattr(obj, f) != v]
            if not diff:
                counts.unchanged += 1
                continue
            for f in diff:
                setattr(obj, f, values[f])
            fields.update(diff)
            changed.append(obj)
        self._write(model, new, changed, sorted(fields), counts)

    def _accounts(self, page: list[dict]) -> None:
        def build(record, values):
            # Legal name and currency are Dealdesk's after the first import.
            return Account(
                crm_id=record["Id"],
                legal_name=values["name"],
                currency=account_currency(record),
                **values,
            )

        self._upsert(
            "Account",
            page,
            Account,
            "crm_id",
            lambda record, values: record["Id"],
            map_account,
            build,
        )

    def _products(self, page: list[dict]) -> None:
        # Kind, interval and prices stay blank: Finance completes the product (docs/design.md).
        self._upsert(
            "Product2",
            page,
            Product,
            "sku",
            lambda record, values: values["sku"],
            map_product,
            lambda record, values: Product(**values),
        )

    def _owner_ids(self, page: list[dict]) -> dict[str, int]:
        wanted = {r["OwnerId"] for r in page if r.get("OwnerId")}
        owners = {
            o.salesforce_user_id: o for o in CrmOwner.objects.filter(salesforce_user_id__in=wanted)
        }
        missing = [CrmOwner(salesforce_user_id=i) for i in sorted(wanted - set(owners))]
        if missing:
            bulk_insert_with_history(missing, user=self.actor, reason="first seen in the CRM")
            owners.update({o.salesforce_user_id: o for o in missing})
        ids = {}
        for key, owner in owners.items():
            if owner.user_id is None:
                self.unmapped_owners.add(key)
            ids[key] = owner.user_id or self.actor.pk
        return ids

    def _opportunities(self, page: list[dict]) -> None:
        counts = self.counts["Opportunity"]
        deals = _deal_rows([r["Id"] for r in page], DEAL_FIELDS)
        account_ids = {
            crm_id: (pk, currency)
            for crm_id, pk, currency in Account.objects.filter(
                crm_id__in={r.get("AccountId") for r in page if r.get("AccountId")}
            ).values_list("crm_id", "pk", "currency")
        }
        owner_ids = self._owner_ids(page)
        won = {}
        for record in page:
            deal = deals.get(record["Id"])
            if record.get("IsDeleted") or not record.get("IsWon"):
                if deal is None:
                    counts.skipped += 1
                    self._resolve("Opportunity", record)
                else:
                    why = (
                        "deleted in the CRM"
                        if record.get("IsDeleted")
                        else (f"no longer won in the CRM (stage {record.get('StageName')})")
                    )
                    self._withdraw(deal, why, counts)
                continue
            result = map_opportunity(record, account_ids=account_ids, owner_ids=owner_ids)
            if result.reasons:
                counts.quarantined += 1
                self._quarantine("Opportunity", record["Id"], record, result.reasons)
                continue
            if deal is None:
                won[record["Id"]] = (record, result.values)
                continue
            self._resolve("Opportunity", record)
            changed = {f: v for f, v in result.values.items() if deal.values[f] != v}
            if self._change(deal, DealChange(fields=changed)):
                counts.updated += 1
            else:
                counts.unchanged += 1
        if won:
            self._create_deals(won, counts)

    def _withdraw(self, deal: "DealRow", why: str, counts: Counts) -> None:
        if deal.state in CANCELLABLE:
            services.deal_cancel(deal_id=deal.pk, actor=self.actor, reason=why)
            counts.deleted += 1
        # Signed: the contract stands whatever the CRM says; a person settles it.
        elif self._change(deal, DealChange(withdrawn=why)):
            counts.deleted += 1
        else:
            counts.unchanged += 1

    def _change(self, deal: "DealRow", change: DealChange) -> bool:
        """Apply a CRM change in place or record it as drift; False if nothing was written."""
        if not change or deal.state == DealState.CANCELLED:
            return False
        if deal.state in EDITABLE:
            deal_apply_crm_change(deal_id=deal.pk, change=change, actor=self.actor)
            return True
        instance = Deal.objects.get(pk=deal.pk)
        return drift_record(deal=instance, change=change, actor=self.actor) is not None

    def _create_deals(self, won: dict[str, tuple[dict, dict]], counts: Counts) -> None:
        """New won deals with their lines and contacts, fetched for just these opportunities."""
        lines, bad_lines = self._children("OpportunityLineItem", list(won))
        roles, bad_roles = self._children("OpportunityContactRole", list(won))
        accounts = Account.objects.in_bulk({v["account_id"] for _, v in won.values()})
        users = {
            u.pk: u
            for u in type(self.actor).objects.filter(
                pk__in={v["owner_id"] for _, v in won.values()}
            )
        }
        contacts = self._contacts(roles, accounts, won, bad_roles)
        specs = []
        for crm_id, (record, values) in won.items():
            line_specs, bad = [], bad_lines[crm_id]
            for line in lines[crm_id]:
                result = map_line(line, products=self.products, currency=values["currency"])
                if result.reasons:
                    self._quarantine("OpportunityLineItem", line["Id"], line, result.reasons)
                    bad.append(_child_reason("OpportunityLineItem", line["Id"], result.reasons))
                    continue
                self._resolve("OpportunityLineItem", line)
                v = result.values
                line_specs.append(
                    services.LineSpec(
                        product=self.products[line["ProductCode"]],
                        quantity=v["quantity"],
                        discount_pct=v["discount_pct"],
                        segment_index=v["segment_index"],
                        list_unit_price=v["list_unit_price"],
                        crm_id=line["Id"],
                    )
                )
            held = []
            if bad:
                held += [f"{len(bad)} line(s) quarantined", *bad]
            if bad_roles[crm_id]:
                held += [
                    f"{len(bad_roles[crm_id])} contact role(s) quarantined",
                    *bad_roles[crm_id],
                ]
            if held:
                # Half a deal would be priced wrong, or signed by the wrong people: it waits
                # until every line and contact role is good.
                counts.quarantined += 1
                self._quarantine("Opportunity", crm_id, record, held)
                continue
            self._resolve("Opportunity", record)
            fields = {f: v for f, v in values.items() if f not in ("account_id", "owner_id")}
            specs.append(
                services.DealSpec(
                    crm_id=crm_id,
                    account=accounts[values["account_id"]],
                    owner=users[values["owner_id"]],
                    lines=line_specs,
                    contacts=contacts.get(crm_id, []),
                    **fields,
                )
            )
        services.deals_create(specs=specs, actor=self.actor)
        self.created_deals.update(s.crm_id for s in specs)
        counts.created += len(specs)

    def _children(
        self, object_name: str, opportunity_ids: list[str]
    ) -> tuple[dict[str, list[dict]], dict[str, list[str]]]:
        """The live records of `object_name` under these opportunities, by opportunity id,
        and why each of those that cannot be read was quarantined (written here; counted
        in the object's own pass, where it is fetched)."""
        query = CRMQuery(
            object_name, self.fields[object_name], ids=opportunity_ids, id_field="OpportunityId"
        )
        # One batch: a record that comes twice across pages is as ambiguous as within one.
        screened = screen(
            object_name, [r for page in self.backend.pages(query) for r in page], self.backend.ids
        )
        self.quarantine.update(
            self._quarantine_entries(
                object_name,
                [*(r.key for r in screened.rejected), *(r["Id"] for r in screened.good)],
            )
        )
        children, bad = defaultdict(list), defaultdict(list)
        for record in screened.good:
            if not record.get("IsDeleted"):
                children[record["OpportunityId"]].append(record)
        for rejected in screened.rejected:
            self._quarantine(object_name, rejected.key, rejected.raw, rejected.reasons)
            bad[rejected.opportunity_id].append(
                _child_reason(object_name, rejected.key, rejected.reasons)
            )
        return children, bad

    def _contacts(self, roles, accounts, won, bad_roles: dict[str, list[str]]) -> dict[str, list]:
        """Contacts of the new deals' contact roles, created once each by CRM id; a role that
        cannot be read is quarantined and named in `bad_roles` under its deal."""
        mapped = defaultdict(list)
        for opp, records in roles.items():
            for record in records:
                if not record.get("ContactId"):
                    continue
                result = map_contact_role(record)
                if result.reasons:
                    self._quarantine("OpportunityContactRole", record["Id"], record, result.reasons)
                    bad_roles[opp].append(
                        _child_reason("OpportunityContactRole", record["Id"], result.reasons)
                    )
                    continue
                self._resolve("OpportunityContactRole", record)
                mapped[opp].append((record["Id"], result.values))
        existing = self._ensure_contacts(
            {
                values["contact"]: (values, accounts[won[opp][1]["account_id"]])
                for opp, pairs in mapped.items()
                for _, values in pairs
            }
        )
        return {
            opp: [
                services.ContactSpec(
                    existing[values["contact"]], values["role"], values["is_primary"], role_id
                )
                for role_id, values in pairs
            ]
            for opp, pairs in mapped.items()
        }

    def _contact_roles(self, page: list[dict]) -> None:
        """Contact roles added, edited or removed on deals that exist already."""
        counts = self.counts["OpportunityContactRole"]
        opportunity_ids = {r.get("OpportunityId") for r in page} - self.created_deals
        deals = _deal_rows(list(opportunity_ids), ["account_id"])
        mine = [r for r in page if r.get("OpportunityId") in deals]
        existing = {
            role.crm_id: role
            for role in DealContact.objects.filter(
                AnyOf(F("crm_id"), [r["Id"] for r in mine])
            ).select_related("contact")
        }
        # Roles imported before their ids were kept: matched once by deal, contact and role.
        unnamed = {
            (role.deal_id, role.contact.crm_id, role.role): role
            for role in DealContact.objects.filter(
                deal_id__in=[d.pk for d in deals.values()], crm_id=None
            ).select_related("contact")
        }
        accounts = Account.objects.in_bulk({d.values["account_id"] for d in deals.values()})
        changes: dict[str, DealChange] = defaultdict(DealChange)
        by_contact = {}
        for record in page:
            deal = deals.get(record.get("OpportunityId"))
            if deal is None:
                # A new deal's role (quarantined with it, or not), or a deal we do not import.
                self._count_childless(counts, "OpportunityContactRole", record)
                continue
            role = existing.get(record["Id"])
            if record.get("IsDeleted") or not record.get("ContactId"):
                if role is None:
                    counts.unchanged += 1
                else:
                    changes[record["OpportunityId"]].contacts[record["Id"]] = None
                continue
            result = map_contact_role(record)
            if result.reasons:
                counts.quarantined += 1
                self._quarantine("OpportunityContactRole", record["Id"], record, result.reasons)
                continue
            self._resolve("OpportunityContactRole", record)
            values = result.values
            if role is None:
                role = unnamed.get((deal.pk, values["contact"], values["role"]))
                if role is not None:
                    role.crm_id = record["Id"]
                    role._history_user, role._change_reason = self.actor, "CRM id recorded"
                    role.save(update_fields=["crm_id", "updated_at"])
            if role is not None and (role.contact.crm_id, role.role, role.is_primary) == (
                values["contact"],
                values["role"],
                values["is_primary"],
            ):
                counts.unchanged += 1
                continue
            changes[record["OpportunityId"]].contacts[record["Id"]] = values
            by_contact[values["contact"]] = (values, accounts[deal.values["account_id"]])
        self._ensure_contacts(by_contact)
        for crm_id, change in changes.items():
            n = len(change.contacts)
            if self._change(deals[crm_id], change):
                counts.updated += n
            else:
                counts.unchanged += n

    def _ensure_contacts(self, wanted: dict[str, tuple[dict, Account]]) -> dict[str, Contact]:
        """The Contact rows for these CRM contact ids (each with its mapped contact role and
        the deal's account), created with history where missing."""
        existing = Contact.objects.filter(crm_id__in=list(wanted)).in_bulk(field_name="crm_id")
        new = []
        for contact_id, (values, account) in wanted.items():
            if contact_id in existing:
                continue
            contact = Contact(
                account=account, crm_id=contact_id, name=values["name"], email=values["email"]
            )
            new.append(contact)
            existing[contact_id] = contact
        if new:
            bulk_insert_with_history(new, user=self.actor, reason=SYNC_REASON)
        return existing

    def _lines(self, page: list[dict]) -> None:
        """Line changes on deals that exist already (new deals came with their lines)."""
        counts = self.counts["OpportunityLineItem"]
        opportunity_ids = {r.get("OpportunityId") for r in page} - self.created_deals
        deals = _deal_rows(list(opportunity_ids), ["currency"])
        existing = {
            crm_id: (deal_id, values)
            for crm_id, deal_id, *values in DealLine.objects.filter(
                AnyOf(F("crm_id"), [r["Id"] for r in page if r.get("OpportunityId") in deals])
            ).values_list("crm_id", "deal_id", *LINE_FIELDS)
        }
        changes: dict[str, DealChange] = defaultdict(DealChange)
        tally: dict[str, Counter] = defaultdict(Counter)
        for record in page:
            deal = deals.get(record.get("OpportunityId"))
            if deal is None:
                # A new deal's line (quarantined with it, or not), or a deal we do not import.
                self._count_childless(counts, "OpportunityLineItem", record)
                continue
            line = existing.get(record["Id"])
            if record.get("IsDeleted"):
                if line is None:
                    counts.unchanged += 1
                else:
                    changes[record["OpportunityId"]].lines[record["Id"]] = None
                    tally[record["OpportunityId"]]["deleted"] += 1
                continue
            result = map_line(record, products=self.products, currency=deal.values["currency"])
            if result.reasons:
                counts.quarantined += 1
                self._quarantine("OpportunityLineItem", record["Id"], record, result.reasons)
                continue
            self._resolve("OpportunityLineItem", record)
            values = result.values
            if line == (deal.pk, [values[f] for f in LINE_FIELDS]):
                counts.unchanged += 1
                continue
            changes[record["OpportunityId"]].lines[record["Id"]] = values
            tally[record["OpportunityId"]]["updated" if line else "created"] += 1
        for crm_id, change in changes.items():
            # A deal past drafting whose drift already says this writes nothing.
            if self._change(deals[crm_id], change):
                for key, n in tally[crm_id].items():
                    setattr(counts, key, getattr(counts, key) + n)
            else:
                counts.unchanged += sum(tally[crm_id].values())
