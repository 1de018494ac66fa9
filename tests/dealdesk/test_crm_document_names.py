"""A CRM id is never a file path: the documents drafted for a deal are named from it safely."""

from pathlib import Path

import pytest

# The drafting fixtures: a won deal run through the real pipeline, media in a temp folder.
from tests.contracts.conftest import media_root, new_deal, stop_before_approvals  # noqa: F401


@pytest.mark.django_db
def test_a_crm_id_with_path_characters_never_reaches_a_document_path(new_deal, settings):  # noqa: F811
    deal = new_deal(crm_id="../../../etc/x")

    version = deal.contract_versions.get()
    media = Path(settings.MEDIA_ROOT).resolve()
    for document in (version.pdf, version.docx):
        assert ".." not in document.name
        assert Path(document.name).name.startswith("_________etc_x-v1-")
        assert Path(document.path).resolve().is_relative_to(media)
