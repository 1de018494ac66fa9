"""Finance's payments and bank imports: the payments list, manual entry (a one-time token so
a form sent twice records one payment), statement upload (with a column-mapping step for a
new bank's CSV), preview, commit and discard. Every write goes through billing/reconciliation,
which checks the permission again; Auditors read the lists."""

import re
from dataclasses import dataclass
from datetime import date

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from billing.bank_statements import ColumnMapping
from billing.bank_statements.entries import MAX_FILE_BYTES, file_sha256
from billing.models import (
    BankImport,
    BankMapping,
    Invoice,
    Payment,
    PaymentAllocation,
    PaymentSource,
    PaymentState,
)
from billing.reconciliation.bank_import import (
    ImportRefused,
    MappingNeeded,
    bank_import_commit,
    bank_import_discard,
    bank_import_preview,
    bank_import_upload,
    status_label,
)
from billing.reconciliation.payments import (
    PaymentRefused,
    manual_entry_token,
    payment_record_manual,
)
from billing.selectors import open_invoice_choices
from billing.services import MANAGE_PERM, require_finance
from dealdesk.models import Currency
from dealdesk.paging import CappedPaginator
from dealdesk.views import list_queries

READ_PERMS = (MANAGE_PERM, "billing.view_payment")
PAGE_SIZE = 50
PREVIEW_PAGE_SIZE = 200
COUNT_CAP = 10_000
# A statement waiting for its bank's columns is kept here by its SHA-256 between the upload
# and the mapping step (the browser cannot be asked to send a 20 MB file twice).
_PENDING = "billing/statements/pending/{}"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _require_read(request: HttpRequest) -> None:
    if not any(request.user.has_perm(perm) for perm in READ_PERMS):
        raise PermissionDenied


# --- payments -----------------------------------------------------------------------------------


class PaymentFilterForm(forms.Form):
    """Every field optional and checked: a query string is typed by anyone."""

    state = forms.ChoiceField(choices=[("", "Any state"), *PaymentState.choices], required=False)
    source = forms.ChoiceField(choices=[("", "Any source"), *PaymentSource.choices], required=False)
    currency = forms.ChoiceField(choices=[("", "Any currency"), *Currency.choices], required=False)
    received_from = forms.DateField(required=False)
    received_to = forms.DateField(required=False)
    statement = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)


def payment_rows(data: dict) -> QuerySet[Payment]:
    rows = Payment.objects.select_related("account", "statement").prefetch_related(
        Prefetch(
            "allocations",
            queryset=PaymentAllocation.objects.select_related("invoice"),
        )
    )
    for name, lookup in (("state", "state"), ("source", "source"), ("currency", "currency"),
                         ("received_from", "received_on__gte"),
                         ("received_to", "received_on__lte"), ("statement", "statement_id")):  # fmt: skip
        if data.get(name):
            rows = rows.filter(**{lookup: data[name]})
    return rows


@require_http_methods(["GET"])
def payment_list(request: HttpRequest) -> HttpResponse:
    _require_read(request)
    form = PaymentFilterForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    rows = payment_rows(form.cleaned_data if form.is_bound and valid else {})
    if not valid:
        rows = rows.none()  # a refused filter lists nothing rather than everything
    page = CappedPaginator(rows, PAGE_SIZE, count_cap=COUNT_CAP).get_page(request.GET.get("page"))
    query, _ = list_queries(request)
    return render(
        request,
        "billing/payments/list.html",
        {
            "form": form,
            "filters": form.cleaned_data if form.is_bound and valid else {},
            "page": page,
            "query": query,
            "tab": "payments",
            "can_record": request.user.has_perm(MANAGE_PERM),
        },
    )


class ManualPaymentForm(forms.Form):
    entry_token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    amount = forms.DecimalField(max_digits=18, decimal_places=3, min_value=0.001)
    currency = forms.ChoiceField(choices=Currency.choices)
    received_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    payer_name = forms.CharField(max_length=255)
    reference = forms.CharField(max_length=500, required=False, help_text="As the payer wrote it.")
    invoice = forms.CharField(
        max_length=40,
        required=False,
        label="Invoice number",
        help_text="Type or pick one of the open invoices; blank: matched by the reference, or the "
        "payer and the amount.",
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )

    def clean_invoice(self) -> Invoice | None:
        number = self.cleaned_data["invoice"].strip().upper()
        if not number:
            return None
        invoice = Invoice.objects.filter(number=number).only("pk").first()
        if invoice is None:
            raise forms.ValidationError(f"No invoice is numbered {number}.")
        return invoice

    def clean_received_on(self) -> date:
        received_on = self.cleaned_data["received_on"]
        if received_on > timezone.localdate():
            raise forms.ValidationError("A payment cannot be received in the future.")
        return received_on


@require_http_methods(["GET", "POST"])
def payment_new(request: HttpRequest) -> HttpResponse:
    require_finance(request.user, "record payments")
    if request.method == "POST":
        form = ManualPaymentForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                payment = payment_record_manual(
                    actor=request.user,
                    entry_token=data["entry_token"],
                    amount=data["amount"],
                    currency=data["currency"],
                    received_on=data["received_on"],
                    payer_name=data["payer_name"],
                    reference=data["reference"],
                    invoice_id=data["invoice"].pk if data["invoice"] else None,
                    note=data["note"],
                )
            except PaymentRefused as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, f"Payment of {payment.amount} {payment.currency} recorded: "
                    f"{payment.get_state_display().lower()}."
                )  # fmt: skip
                return redirect("billing:payments")
    else:
        form = ManualPaymentForm(
            initial={"entry_token": manual_entry_token(), "received_on": timezone.localdate()}
        )
    invoices = open_invoice_choices()
    return render(
        request,
        "billing/payments/new.html",
        {
            "form": form,
            "tab": "payments",
            "open_invoices": invoices,
            "payers": sorted({i["customer"] for i in invoices if i["customer"]}),
        },
    )


# --- bank imports -------------------------------------------------------------------------------


@require_http_methods(["GET"])
def import_list(request: HttpRequest) -> HttpResponse:
    _require_read(request)
    rows = BankImport.objects.select_related("bank", "uploaded_by", "committed_by").defer("summary")
    page = CappedPaginator(rows, PAGE_SIZE, count_cap=COUNT_CAP).get_page(request.GET.get("page"))
    query, _ = list_queries(request)
    return render(
        request,
        "billing/payments/imports.html",
        {
            "page": page,
            "query": query,
            "tab": "imports",
            "can_upload": request.user.has_perm(MANAGE_PERM),
        },
    )


class UploadForm(forms.Form):
    file = forms.FileField(help_text="CSV or camt.053 XML, as the bank exports it.")
    bank = forms.CharField(
        max_length=100, required=False, help_text="For a CSV: the bank it comes from."
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"Statements up to {MAX_FILE_BYTES // 1024 // 1024} MB are imported."
            )
        return upload


class MappingForm(forms.Form):
    """A new bank's columns: header names as the file writes them."""

    sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)
    filename = forms.CharField(widget=forms.HiddenInput, max_length=255)
    bank = forms.CharField(max_length=100)
    booking_date = forms.CharField(max_length=100)
    amount = forms.CharField(max_length=100, required=False, help_text="Signed amounts.")
    debit = forms.CharField(max_length=100, required=False, help_text="Or money out …")
    credit = forms.CharField(max_length=100, required=False, help_text="… and money in.")
    value_date = forms.CharField(max_length=100, required=False)
    currency = forms.CharField(max_length=100, required=False)
    fixed_currency = forms.CharField(
        max_length=3, required=False, help_text="The account's currency, if no column says it."
    )
    counterparty_name = forms.CharField(max_length=100, required=False, label="Payer")
    counterparty_account = forms.CharField(max_length=100, required=False, label="Payer IBAN")
    remittance = forms.CharField(
        max_length=300, required=False, help_text="Comma-separated: several columns are joined."
    )
    reference = forms.CharField(
        max_length=100, required=False, label="Transaction id", help_text="The bank's own id."
    )
    end_to_end_id = forms.CharField(max_length=100, required=False)
    delimiter = forms.ChoiceField(
        choices=[("", "Detect"), (",", ","), (";", ";"), ("\t", "Tab"), ("|", "|")], required=False
    )
    skip_rows = forms.IntegerField(min_value=0, max_value=1000, initial=0)
    decimal_separator = forms.ChoiceField(choices=[(".", "."), (",", ",")])
    thousands_separator = forms.ChoiceField(
        choices=[("", "None"), (".", "."), (",", ","), (" ", "Space"), ("'", "'")], required=False
    )
    date_formats = forms.CharField(max_length=100, help_text="e.g. %d.%m.%Y, comma-separated.")

    def clean_sha256(self) -> str:
        sha256 = self.cleaned_data["sha256"]
        if not _SHA256.fullmatch(sha256):
            raise forms.ValidationError("The uploaded file is gone: upload it again.")
        return sha256

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        names = ("booking_date", "amount", "debit", "credit", "value_date", "currency",
                 "counterparty_name", "counterparty_account", "reference", "end_to_end_id")  # fmt: skip
        values = {name: data[name].strip() or None for name in names}
        try:
            self.mapping = ColumnMapping(
                **values,
                fixed_currency=data["fixed_currency"].strip().upper(),
                remittance=tuple(c.strip() for c in data["remittance"].split(",") if c.strip()),
                delimiter=data["delimiter"],
                skip_rows=data["skip_rows"],
                decimal_separator=data["decimal_separator"],
                thousands_separator=data["thousands_separator"],
                date_formats=tuple(f.strip() for f in data["date_formats"].split(",") if f.strip()),
            )
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data

    @classmethod
    def from_guess(cls, initial: dict, *, sha256: str, filename: str, bank: str) -> "MappingForm":
        shown = {
            key: (", ".join(str(v) for v in value) if isinstance(value, tuple) else value)
            for key, value in initial.items()
            if value is not None
        }
        return cls(initial=shown | {"sha256": sha256, "filename": filename, "bank": bank})


@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    require_finance(request.user, "import bank statements")
    banks = BankMapping.objects.values_list("bank", flat=True)
    if request.method == "POST" and "sha256" in request.POST:
        return _mapping_step(request, banks)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        content = form.cleaned_data["file"].read()
        filename = form.cleaned_data["file"].name
        try:
            statement = bank_import_upload(
                actor=request.user,
                filename=filename,
                content=content,
                bank=form.cleaned_data["bank"],
            )
        except MappingNeeded as needed:
            sha256 = file_sha256(content)
            name = _PENDING.format(sha256)
            if not default_storage.exists(name):
                default_storage.save(name, ContentFile(content))
            mapping_form = MappingForm.from_guess(
                needed.initial, sha256=sha256, filename=filename, bank=form.cleaned_data["bank"]
            )
            return _render_mapping(request, mapping_form, content)
        except ImportRefused as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("billing:import-detail", pk=statement.pk)
    return render(
        request,
        "billing/payments/import_new.html",
        {"form": form, "banks": banks, "tab": "imports"},
    )


def _mapping_step(request: HttpRequest, banks) -> HttpResponse:
    form = MappingForm(request.POST)
    sha256 = request.POST.get("sha256", "")
    name = _PENDING.format(sha256) if _SHA256.fullmatch(sha256) else ""
    if not name or not default_storage.exists(name):
        messages.error(request, "The uploaded file is gone: upload it again.")
        return redirect("billing:import-new")
    with default_storage.open(name, "rb") as stored:
        content = stored.read()
    if form.is_valid():
        try:
            statement = bank_import_upload(
                actor=request.user,
                filename=form.cleaned_data["filename"],
                content=content,
                bank=form.cleaned_data["bank"],
                mapping=form.mapping,
            )
        except ImportRefused as exc:
            form.add_error(None, str(exc))
        else:
            default_storage.delete(name)
            return redirect("billing:import-detail", pk=statement.pk)
    return _render_mapping(request, form, content)


def _render_mapping(request: HttpRequest, form: MappingForm, content: bytes) -> HttpResponse:
    head = content[:4000].decode("utf-8", errors="replace").splitlines()[:8]
    return render(
        request,
        "billing/payments/import_mapping.html",
        {"form": form, "head": head, "tab": "imports"},
    )


@dataclass(frozen=True)
class _Total:
    status: str
    currency: str
    entries: int
    amount: object

    @property
    def label(self) -> str:
        return status_label(self.status)


@require_http_methods(["GET"])
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_read(request)
    statement = get_object_or_404(
        BankImport.objects.select_related("bank", "uploaded_by", "committed_by"), pk=pk
    )
    context = {"statement": statement, "tab": "imports", "can_commit": False}
    if statement.state == "preview":
        preview = bank_import_preview(statement)
        context |= {
            "page": Paginator(preview.rows, PREVIEW_PAGE_SIZE).get_page(request.GET.get("page")),
            "problems": preview.problems,
            "totals": [
                _Total(status, currency, entries, amount)
                for status, by_currency in preview.totals.items()
                for currency, (entries, amount) in sorted(by_currency.items())
            ],
            "can_commit": request.user.has_perm(MANAGE_PERM),
            "query": "",
        }
    return render(request, "billing/payments/import_detail.html", context)


@require_POST
def import_commit(request: HttpRequest, pk: int) -> HttpResponse:
    require_finance(request.user, "import bank statements")
    try:
        summary = bank_import_commit(import_id=pk, actor=request.user)
    except ImportRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Imported: {summary['new_payments']} new payments of {summary['entries']} entries.",
        )
    return redirect("billing:import-detail", pk=pk)


@require_POST
def import_discard(request: HttpRequest, pk: int) -> HttpResponse:
    require_finance(request.user, "discard bank statements")
    try:
        bank_import_discard(import_id=pk, actor=request.user)
    except ImportRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, "Statement discarded: nothing was booked.")
    return redirect("billing:imports")
