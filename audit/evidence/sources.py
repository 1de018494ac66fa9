"""What a deal's pack holds from the apps above `audit`: its records, their history and their
stored files.

`audit` imports nothing above it (docs/architecture.md). A pack is about a deal, so this is
the one module of the package that reaches up, and it does so the way the core names the upper
apps: by model label and dotted path (strings, resolved through Django's app registry), never
by an import statement.

Every stored file is read through `contracts.selectors.checked_bytes`, the reader every
download uses: a file whose bytes no longer hash to what was recorded is audited there, and
the export stops naming it rather than pack it.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model, Q, QuerySet
from django.db.models.fields.files import FieldFile
from django.utils.module_loading import import_string

from audit.actions import Action
from audit.models import AuditEvent

DEAL = "dealdesk.deal"


class StoredFileTampered(Exception):
    """A stored file no longer hashes to its recorded SHA-256: the pack is not made."""


def _model(label: str) -> type[Model]:
    return apps.get_model(label)


def deal_payment_ids(deal_id: int) -> QuerySet:
    # A payment belongs to a deal through what it paid or the receivable it raised.
    payments = _model("billing.payment")._default_manager.filter(
        Q(allocations__invoice__deal=deal_id) | Q(ar_items__deal=deal_id)
    )
    return payments.values("pk")


def _by(path: str) -> Callable[[int], Q]:
    return lambda deal_id: Q(**{path: deal_id})


# Every model with history that belongs to a deal → its rows of that deal. Historical rows
# keep the foreign keys of the row they copy, so the same paths reach the deal.
HISTORY: dict[str, Callable[[int], Q]] = {
    DEAL: _by("id"),
    "dealdesk.dealline": _by("deal"),
    "dealdesk.dealcontact": _by("deal"),
    "dealdesk.dealtermsedit": _by("deal"),
    "contracts.contractversion": _by("deal"),
    "contracts.clausedecision": _by("version__deal"),
    "approvals.gaterun": _by("contract_version__deal"),
    "approvals.approvalrequest": _by("deal"),
    "esign.signaturerequest": _by("deal"),
    "esign.signer": _by("request__deal"),
    "billing.billingrecord": _by("deal"),
    "billing.invoice": _by("deal"),
    "billing.invoiceline": _by("invoice__deal"),
    "billing.payment": lambda deal_id: Q(id__in=deal_payment_ids(deal_id)),
    "billing.paymentallocation": _by("invoice__deal"),
    "billing.aritem": _by("deal"),
    "billing.creditnote": _by("invoice__deal"),
    "billing.refund": lambda deal_id: Q(payment__in=deal_payment_ids(deal_id)),
}


@dataclass(frozen=True)
class StoredFile:
    """A file field, the field holding its recorded SHA-256, and how a mismatch is audited."""

    field: str
    sha256_field: str
    action: Action
    kind: str


STORED_FILES = {
    "contracts.contractversion": (
        StoredFile("pdf", "pdf_sha256", Action.CONTRACT_VERSION_DOCUMENT_TAMPERED, "pdf"),
        StoredFile("docx", "docx_sha256", Action.CONTRACT_VERSION_DOCUMENT_TAMPERED, "docx"),
    ),
    "esign.signaturerequest": (
        StoredFile(
            "executed_pdf", "executed_sha256", Action.SIGNATURE_REQUEST_FILE_TAMPERED, "executed"
        ),
        StoredFile(
            "certificate_pdf",
            "certificate_sha256",
            Action.SIGNATURE_REQUEST_FILE_TAMPERED,
            "certificate",
        ),
    ),
    "billing.invoice": (
        StoredFile("pdf", "pdf_sha256", Action.INVOICE_FILE_TAMPERED, "invoice PDF"),
    ),
    "billing.creditnote": (
        StoredFile("pdf", "pdf_sha256", Action.CREDIT_NOTE_FILE_TAMPERED, "credit note PDF"),
    ),
}


def dumps(value: object) -> bytes:
    """JSON as a pack stores it: indented for a reader, keys sorted, Decimals as strings."""
    return json.dumps(value, cls=DjangoJSONEncoder, indent=1, sort_keys=True).encode()


def row(obj: Model, *extra: str) -> dict:
    """A record's stored columns (file fields as the stored name), plus `extra` attributes
    (e.g. "decided_by.username"), as a pack's JSON holds them."""
    values = {}
    for field in obj._meta.concrete_fields:
        value = getattr(obj, field.attname)
        values[field.attname] = value.name if isinstance(value, FieldFile) else value
    for path in extra:
        value = obj
        for name in path.split("."):
            value = getattr(value, name, None) if value is not None else None
        values[path.replace(".", "_")] = value
    return values


def deal_row(deal_id: int) -> dict:
    deal = _model(DEAL)._default_manager.select_related("account", "owner").get(pk=deal_id)
    return {
        **row(deal, "account.name", "owner.username"),
        "lines": [row(line, "product.sku") for line in deal.lines.select_related("product")],
    }


def deal_event_seqs(deal_id: int) -> list[int]:
    """The seqs of every event about the deal and its parts (one query)."""
    about_deals = import_string("dealdesk.deal_events.about_deals")
    deals = _model(DEAL)._default_manager.filter(pk=deal_id)
    return list(AuditEvent.objects.filter(about_deals(deals)).values_list("seq", flat=True))


def history_rows(deal_id: int) -> Iterator[tuple[str, list[dict]]]:
    """(model label, its historical rows of the deal): one query per model."""
    for label, condition in HISTORY.items():
        history = _model(label).history.model._default_manager
        rows = history.filter(condition(deal_id)).order_by("history_date", "history_id")
        yield label, [row(h, "history_user.username") for h in rows.select_related("history_user")]


def records(label: str, value: object, path: str = "deal", *related: str) -> QuerySet:
    """The current rows of `label` whose `path` is `value` (a deal id, or the payments'
    subquery), by pk, with `related` joined."""
    manager = _model(label)._default_manager
    return manager.filter(**{path: value}).select_related(*related).order_by("pk")


def checked_file(obj: Model, stored: StoredFile, actor: AbstractBaseUser | None) -> bytes | None:
    """The file's bytes, None when the record has none; StoredFileTampered when they no longer
    hash to the recorded SHA-256 (the finding is audited by the checked reader)."""
    file: FieldFile = getattr(obj, stored.field)
    if not file:
        return None
    expected = getattr(obj, stored.sha256_field)
    checked_bytes = import_string("contracts.selectors.checked_bytes")
    content, actual = checked_bytes(
        file, expected, obj=obj, action=stored.action, kind=stored.kind, actor=actor
    )
    if actual != expected:
        raise StoredFileTampered(
            f"{file.name} ({obj._meta.verbose_name} {obj.pk}, {stored.kind}) no longer hashes to "
            f"its recorded SHA-256 {expected[:12]}… (found {actual[:12]}…): no evidence pack is "
            "made from it; the finding is in the audit log"
        )
    return content


def stored_files(label: str, obj: Model, actor: AbstractBaseUser | None) -> Iterator[tuple]:
    """(field name, bytes, recorded SHA-256) of each file the record holds."""
    for stored in STORED_FILES[label]:
        content = checked_file(obj, stored, actor)
        if content is not None:
            yield stored.field, content, getattr(obj, stored.sha256_field)


def seal_check(executed_pdf: bytes, document_sha256: str) -> list[str]:
    """What is wrong with the executed PDF's seal, in words ([] when it holds)."""
    verify_executed_pdf = import_string("contracts.esign.executed.verify_executed_pdf")
    return verify_executed_pdf(executed_pdf, expected_document_sha256=document_sha256)


def seal_certificate_der() -> bytes:
    """The sealing certificate (public), so the seal can be checked outside Dealdesk."""
    return import_string("contracts.esign.seal_certificate.seal_identity")().certificate.dump()
