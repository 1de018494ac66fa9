"""The CRM integration: a Protocol, its errors and two backends (see docs/design.md, "Salesforce mapping").

`crm_backend()` picks the backend named by settings.CRM_BACKEND. simple-salesforce is imported
only in `dealdesk.crm.salesforce`.
"""

from django.conf import settings

from dealdesk.crm.base import CRMBackend, CRMError, CRMQuery

__all__ = ["CRMBackend", "CRMError", "CRMQuery", "crm_backend"]


def crm_backend() -> CRMBackend:
    if settings.CRM_BACKEND == "salesforce":
        from dealdesk.crm.salesforce import SalesforceBackend

        return SalesforceBackend.from_settings()
    if settings.CRM_BACKEND == "file":
        from dealdesk.crm.file import FileBackend

        return FileBackend(settings.CRM_FILE)
    raise CRMError(f"unknown CRM_BACKEND {settings.CRM_BACKEND!r}: use file or salesforce")
