"""Templates are code: a version that reaches for a file, the network or Python is refused at
publication, with the reason, and nothing is saved (issue 12)."""

import base64
import io

import docx
import pytest
from PIL import Image
from pypdf import PdfReader

from audit.actions import Action
from audit.models import AuditEvent
from contracts.document_templates import order_form_docx, order_form_html
from contracts.models import ContractTemplate
from contracts.rendering import document_context, render_html, render_pdf, sample_snapshot
from contracts.services import ContractTemplateError, contract_template_publish
from dealdesk.models import DealPattern

pytestmark = pytest.mark.django_db


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (15, 42, 74)).save(buffer, format="PNG")
    return buffer.getvalue()


def _docx_saying(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _html_with(markup: str) -> str:
    return order_form_html().replace("<body>", f"<body>{markup}", 1)


def _publish(actor, *, html: str | None = None, docx_bytes: bytes | None = None):
    return contract_template_publish(
        pattern=DealPattern.objects.get(code="simple"),
        title="Order Form",
        html=order_form_html() if html is None else html,
        docx=order_form_docx() if docx_bytes is None else docx_bytes,
        docx_filename="order-form.docx",
        note="",
        actor=actor,
    )


def _assert_refused(actor, match: str, **template) -> None:
    versions = ContractTemplate.objects.count()
    with pytest.raises(ContractTemplateError, match=match):
        _publish(actor, **template)
    assert ContractTemplate.objects.count() == versions
    assert not AuditEvent.objects.filter(action=Action.CONTRACT_TEMPLATE_PUBLISHED).exists()


@pytest.fixture
def salesforce_key(settings, tmp_path):
    key = tmp_path / "salesforce.key"
    key.write_text("-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n")
    settings.SALESFORCE_PRIVATE_KEY_FILE = str(key)
    return key


@pytest.fixture
def static_logo(settings, tmp_path):
    static = tmp_path / "static"
    (static / "brand").mkdir(parents=True)
    (static / "brand" / "logo.png").write_bytes(_png())
    settings.STATICFILES_DIRS = [static]
    return "static/brand/logo.png"


def test_the_shipped_order_form_publishes(legal_user):
    assert _publish(legal_user).version == 2


def test_a_template_that_reads_a_file_in_an_img_fails_to_publish(legal_user):
    _assert_refused(
        legal_user,
        r"file: URL refused \(file:///etc/passwd\)",
        html=_html_with('<img src="file:///etc/passwd">'),
    )


@pytest.mark.parametrize(
    "markup",
    [
        '<link rel="attachment" href="file://{key}">',
        '<link rel="stylesheet" href="file://{key}">',
        '<style>@import url("file://{key}");</style>',
        '<div style="background: url(file://{key})">x</div>',
    ],
    ids=["attachment", "stylesheet", "import", "css-url"],
)
def test_a_template_that_attaches_the_salesforce_private_key_fails_to_publish(
    legal_user, salesforce_key, markup
):
    _assert_refused(
        legal_user,
        f"file: URL refused \\(file://{salesforce_key}\\)",
        html=_html_with(markup.format(key=salesforce_key)),
    )


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/logo.png", "https://example.com/logo.png", "//example.com/x.css"]
)
def test_a_template_that_fetches_from_the_network_fails_to_publish(legal_user, url):
    _assert_refused(legal_user, "URL refused", html=_html_with(f'<img src="{url}">'))


def test_a_template_with_a_data_url_that_is_not_an_image_fails_to_publish(legal_user):
    page = base64.b64encode(b"<p>hello</p>").decode()
    _assert_refused(
        legal_user,
        "data: URLs other than PNG, JPEG, GIF or SVG images are refused",
        html=_html_with(f'<link rel="stylesheet" href="data:text/css;base64,{page}">'),
    )


@pytest.mark.parametrize(
    ("src", "match"),
    [
        ("static/%2e%2e/%2e%2e/dealdesk/settings.py", "leaves the static files"),
        ("static/../../dealdesk/settings.py", "is not one of Dealdesk's static files"),
        ("static/brand/missing.png", "no such static file"),
    ],
)
def test_a_template_that_leaves_the_static_files_fails_to_publish(
    legal_user, static_logo, src, match
):
    _assert_refused(legal_user, match, html=_html_with(f'<img src="{src}">'))


@pytest.mark.parametrize(
    "expression",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ account.__class__ }}",
        "{{ account.legal_name.upper() }}",
        "{{ lines|attr('__class__') }}",
        "{{ account['__class__'] }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
def test_a_docx_template_that_escapes_the_sandbox_fails_to_publish(legal_user, expression):
    _assert_refused(legal_user, "DOCX template refused", docx_bytes=_docx_saying(expression))


@pytest.mark.parametrize(
    ("tag", "refused"),
    [
        ("{% load static %}", "{% load %} is refused"),
        ("{% include 'base.html' %}", "{% include %} is refused"),
        ("{% extends 'base.html' %}", "{% extends %} is refused"),
        ("{% debug %}", "{% debug %} is refused"),
        ("{% autoescape off %}{{ title }}{% endautoescape %}", "{% autoescape %} is refused"),
    ],
)
def test_a_template_with_a_forbidden_django_tag_fails_to_publish(legal_user, tag, refused):
    _assert_refused(legal_user, refused, html=_html_with(tag))


def test_a_template_that_marks_data_safe_fails_to_publish(legal_user):
    _assert_refused(
        legal_user, "Invalid filter: 'safe'", html=_html_with("{{ account.legal_name|safe }}")
    )


def test_an_allowed_static_image_and_an_image_data_url_still_render(legal_user, static_logo):
    png = base64.b64encode(_png()).decode()
    html = _html_with(f'<img src="{static_logo}"><img src="data:image/png;base64,{png}">')
    template = _publish(legal_user, html=html)
    context = document_context(sample_snapshot(title="Order Form"), version_number=1)
    pdf = PdfReader(io.BytesIO(render_pdf(template.html, context)))
    assert len(pdf.pages[0].images) == 2


def test_a_docx_template_reads_keys_and_loop_counters(legal_user):
    template = _publish(
        legal_user,
        docx_bytes=_docx_saying(
            "{% for line in lines %}{{ loop.index }}:{{ line.sku }} {% endfor %}"
            "{{ account.legal_name }}"
        ),
    )
    assert template.version == 2


def test_a_template_cannot_change_the_data_it_is_given():
    # Django templates call what they find: `account.clear` would empty the stored snapshot.
    snapshot = sample_snapshot(title="Order Form")
    context = document_context(snapshot, version_number=1)
    assert render_html("{{ account.clear }}{{ lines.pop }}", context) == ""
    assert snapshot["account"]["legal_name"] == "Sample & Co <Holdings>, Inc."
    assert len(context["lines"]) == 2
