"""Clause text is exactly what was agreed: escaped once, at each format's boundary.

For every clause type of the taxonomy, wording Legal typed and params Legal entered that hold
`& < > " '`, markup-like text and non-Latin scripts read the same in the PDF's text, in the
DOCX's XML text nodes and on the review page, never as "&amp;" or "&lt;KG&gt;".
"""

import io
import zipfile
from xml.etree import ElementTree

import pytest
from django.urls import reverse
from django.utils.html import escape
from pypdf import PdfReader

from contracts import services
from contracts.models import ClauseType
from contracts.rendering import clause_wording
from contracts.taxonomy import PARAMS

# Typed by Legal into a clause's wording (a Django template over the params).
LEFT_TO_RIGHT = "Ελλάδα & 日本 <KG> \"quoted\" 'single'"
ARABIC = "شركة البيانات"
WORDING_TEXT = f"{LEFT_TO_RIGHT} {ARABIC}"
# Entered by Legal as a param: a closing XML tag and a script stay text in every format.
PARAM_TEXT = "England & Wales <Ltd> \"A\" 'B' </w:t> 東京"

# Valid params for each clause type; the free-text ones carry PARAM_TEXT.
PARAMS_OF = {
    "payment_terms": {"net_days": 45},
    "billing_frequency": {"interval": "quarterly"},
    "billing_start": {"mode": "days_after_signature", "days": 10},
    "free_period": {"months": 2},
    "price_uplift": {"pct": "3.5", "every_months": 12},
    "renewal_price_cap": {"max_increase_pct": "5"},
    "price_lock": {"months": 24},
    "auto_renewal": {"enabled": True, "notice_days": 30},
    "termination_for_convenience": {"notice_days": 90},
    "sla_credit": {"uptime_pct": "99.9", "credit_pct": "10"},
    "liability_cap": {"multiple_of_fees": "2"},
    "purchase_order_required": {"po_number": PARAM_TEXT},
    "payment_method": {"method": "wire"},
    "data_residency": {"region": PARAM_TEXT},
    "governing_law": {"jurisdiction": PARAM_TEXT},
    "pilot_opt_out": {"days": 30},
    "most_favored_nation": {},
    "unlimited_liability": {},
    "exclusivity": {},
    "other": {"summary": f"{PARAM_TEXT} <script>alert(1)</script>"},
}
TAKES_TEXT = {code for code, params in PARAMS_OF.items() if PARAM_TEXT in str(params)}
# What either format would show had a value been escaped twice, or a tag become markup.
DOUBLE_ESCAPED = ("&amp;amp;", "&amp;lt;", "&amp;gt;", "&amp;quot;", "&amp;#x27;", "&amp;#39;")


def test_every_clause_type_of_the_taxonomy_is_covered():
    assert set(PARAMS_OF) == set(PARAMS)


def test_clause_wording_is_plain_text_not_html():
    wording = clause_wording("laws of {{ place }}.", {"place": PARAM_TEXT})
    assert wording == f"laws of {PARAM_TEXT}."
    assert not hasattr(wording, "__html__")  # not marked safe: the documents escape it


def _flat(text: str) -> str:
    return " ".join(text.split())


def _around_arabic(text: str) -> str:
    return _flat(text.replace(ARABIC, " "))


def _pdf_text(version) -> str:
    reader = PdfReader(io.BytesIO(version.pdf.read()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return _flat(text.replace("-\n", "-"))  # "non-renewal" broken after its hyphen


def _docx_xml(version) -> str:
    with zipfile.ZipFile(io.BytesIO(version.docx.read())) as docx:
        return docx.read("word/document.xml").decode("utf-8")


def _docx_texts(xml: str) -> list[str]:
    """Each paragraph's text, its w:t nodes joined: what Word shows."""
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    root = ElementTree.fromstring(xml)  # noqa: S314 - our own document, parsed to read it
    return ["".join(t.text or "" for t in p.iter(f"{w}t")) for p in root.iter(f"{w}p")]


@pytest.fixture
def clause_added(new_deal, legal_user):
    """add(code) → the version Legal makes by adding a clause of that type, its wording
    edited to hold WORDING_TEXT, with PARAMS_OF[code]: rendered by the real services."""

    def add(code: str):
        version = new_deal(notes="").contract_versions.get()
        clause_type = ClauseType.objects.get(code=code)
        clause_type.wording = f"{WORDING_TEXT}: {clause_type.wording}"
        clause_type.save()
        return services.contract_clause_add(
            version_id=version.pk,
            clause_type=code,
            params=PARAMS_OF[code],
            actor=legal_user,
            reason="escaping test",
        )

    return add


@pytest.mark.parametrize("code", sorted(PARAMS))
def test_clause_text_reads_exactly_as_typed_in_the_pdf_the_docx_and_the_review_page(
    clause_added, client, legal_user, code
):
    version = clause_added(code)
    clause = version.clauses[-1]
    assert clause["type"] == code
    assert clause["wording"].startswith(f"{WORDING_TEXT}: ")
    if code in TAKES_TEXT:
        assert PARAM_TEXT in clause["wording"]

    # pypdf extracts a right-to-left run with the spaces and colon beside it moved, so the PDF's
    # Arabic is counted on its own and the wording compared around it; the DOCX and the page
    # hold the wording whole.
    pdf = _pdf_text(version)
    assert pdf.count(LEFT_TO_RIGHT) == 1
    assert pdf.count(ARABIC) == 1
    assert _around_arabic(clause["wording"]) in _around_arabic(pdf)
    for leak in ("&amp;", "&lt;", "&gt;", "&quot;", "&#"):
        assert leak not in pdf

    xml = _docx_xml(version)
    for leak in DOUBLE_ESCAPED:
        assert leak not in xml
    assert "<KG>" not in xml  # escaped once in the XML, so a value never becomes a tag
    texts = _docx_texts(xml)
    clause_paragraphs = [text for text in texts if WORDING_TEXT in text]
    assert clause_paragraphs == [f"{clause['title']}. {clause['wording']}"]

    client.force_login(legal_user)
    page = client.get(reverse("contract-version", args=[version.pk])).content.decode()
    assert page.count(escape(WORDING_TEXT)) == 1
    assert escape(clause["wording"]) in page
    assert "<KG>" not in page
    assert "<script>alert" not in page
    for leak in DOUBLE_ESCAPED:
        assert leak not in page


def test_review_page_shows_england_and_wales_escaped_exactly_once(clause_added, client, legal_user):
    version = clause_added("governing_law")
    client.force_login(legal_user)
    page = client.get(reverse("contract-version", args=[version.pk])).content.decode()
    assert "England &amp; Wales &lt;Ltd&gt; &quot;A&quot; &#x27;B&#x27; &lt;/w:t&gt; 東京" in page
    assert "&amp;amp;" not in page


def test_diff_page_shows_the_added_params_escaped_once(clause_added, client, legal_user):
    version = clause_added("governing_law")
    client.force_login(legal_user)
    page = client.get(reverse("contract-diff", args=[version.pk])).content.decode()
    assert escape(PARAM_TEXT) in page  # the clause change's params
    assert escape(LEFT_TO_RIGHT) in page  # the text diff, read from the PDFs
    for leak in DOUBLE_ESCAPED:
        assert leak not in page
