"""The Auditors' evidence in the browser: a deal's pack (the button on the deal page) and the
sample page (`/audit/evidence/`: period, N, seed → a zip of the sampled deals' packs)."""

import logging

from django import forms
from django.apps import apps
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods, require_POST

from audit.anchors import AnchorStoreError
from audit.evidence.chain_proof import ChainProofError
from audit.evidence.sample import PeriodError, audit_sample, parse_period
from audit.evidence.services import evidence_pack_export, sample_zip_stream
from audit.evidence.sources import DEAL, StoredFileTampered

log = logging.getLogger(__name__)
VIEW_PERM = "audit.view_auditevent"
# A sample is a handful of deals an auditor tests by hand; a bigger export is a command's job.
MAX_SAMPLE = 100


class SampleForm(forms.Form):
    period = forms.CharField(max_length=7, strip=True, help_text="2026, 2026Q4 or 2026-11")
    size = forms.IntegerField(min_value=1, max_value=MAX_SAMPLE, initial=25, label="Deals")
    seed = forms.RegexField(
        regex=r"^[A-Za-z0-9_.:-]{1,64}$",
        required=False,
        max_length=64,
        strip=True,
        help_text="Empty: a new one is drawn and shown, to draw the same sample again.",
        error_messages={"invalid": "A seed is letters, digits and . _ : - (up to 64)."},
    )

    def clean_period(self) -> str:
        try:
            return parse_period(self.cleaned_data["period"]).name
        except PeriodError as exc:
            raise forms.ValidationError(str(exc)) from exc


def _exporter(request: HttpRequest) -> str:
    return f"{request.user.get_username()} (browser)"


def _refused(request: HttpRequest, error: str, deal_id: int | None = None) -> HttpResponse:
    return render(
        request, "audit/evidence_refused.html", {"error": error, "deal_id": deal_id}, status=409
    )


@require_POST
@permission_required(VIEW_PERM, raise_exception=True)
def evidence_pack_download(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_object_or_404(apps.get_model(DEAL)._default_manager.only("pk", "state"), pk=pk)
    try:
        pack = evidence_pack_export(
            deal_id=deal.pk, actor=request.user, exporter=_exporter(request), via="browser"
        )
    except (StoredFileTampered, ChainProofError, AnchorStoreError) as exc:
        log.error("evidence pack of deal %s refused: %s", deal.pk, exc)
        return _refused(request, str(exc), deal.pk)
    response = HttpResponse(pack.content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{pack.name}"'
    return response


@require_http_methods(["GET", "POST"])
@permission_required(VIEW_PERM, raise_exception=True)
def evidence_sample_page(request: HttpRequest) -> HttpResponse:
    """GET with a period and N shows the draw (population, seed, the deals); POST of the same
    fields downloads the packs, drawn again from the seed shown."""
    data = request.POST if request.method == "POST" else request.GET
    form = SampleForm(data or None)
    if not form.is_valid():
        return render(request, "audit/evidence_sample.html", {"form": form})
    try:
        sample = audit_sample(
            period=form.cleaned_data["period"],
            size=form.cleaned_data["size"],
            seed=form.cleaned_data["seed"] or None,
        )
    except AnchorStoreError as exc:
        return _refused(request, str(exc))
    if request.method == "POST":
        response = StreamingHttpResponse(
            sample_zip_stream(
                sample=sample, actor=request.user, exporter=_exporter(request), via="browser"
            ),
            content_type="application/zip",
        )
        name = f"evidence-sample-{sample.period.name}-seed-{sample.seed}.zip"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    deals = apps.get_model(DEAL)._default_manager.only("pk", "name", "crm_id", "state")
    return render(
        request,
        "audit/evidence_sample.html",
        {
            "form": form,
            "sample": sample,
            "deals": list(deals.filter(pk__in=sample.deal_ids).order_by("pk")),
        },
    )
