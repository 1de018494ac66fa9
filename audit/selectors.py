"""Reading the audit log."""

from django.db import models
from django.db.models import QuerySet

from audit.models import AuditEvent


def audit_events_for(*, obj: models.Model) -> QuerySet[AuditEvent]:
    """Events about one model instance, oldest first."""
    return audit_events_for_objects(object_type=obj._meta.label_lower, object_ids=[str(obj.pk)])


def audit_events_for_objects(*, object_type: str, object_ids: list[str]) -> QuerySet[AuditEvent]:
    """Events about several objects of one type (e.g. a deal's contract versions), by seq."""
    return (
        AuditEvent.objects.filter(
            object_type=object_type, object_id__in=[str(object_id) for object_id in object_ids]
        )
        .select_related("actor")
        .order_by("seq")
    )
