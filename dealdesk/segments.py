"""Customer segments (SMB, Mid-Market, Enterprise) by the account's employee count.

The count comes from the CRM (Salesforce's standard NumberOfEmployees), so sales and the deal
desk read the same segment; the bounds are a setting (ACCOUNT_SEGMENT_BANDS) and apply to
every deal at once, past ones included, as they are not stored per account.
"""

from django.conf import settings
from django.core.checks import Error, register
from django.db.models import Q, TextChoices


class Segment(TextChoices):
    SMB = "smb", "SMB"
    MID_MARKET = "mid_market", "Mid-Market"
    ENTERPRISE = "enterprise", "Enterprise"
    UNKNOWN = "unknown", "Unsegmented"


def segment_q(segment: str) -> Q:
    """The deals whose account is in `segment`."""
    small, large = settings.ACCOUNT_SEGMENT_BANDS
    field = "account__employees"
    return {
        Segment.SMB: Q(**{f"{field}__lt": small}),
        Segment.MID_MARKET: Q(**{f"{field}__gte": small, f"{field}__lt": large}),
        Segment.ENTERPRISE: Q(**{f"{field}__gte": large}),
        Segment.UNKNOWN: Q(**{f"{field}__isnull": True}),
    }[Segment(segment)]


@register()
def check_segment_bands(app_configs, **kwargs) -> list[Error]:
    bands = settings.ACCOUNT_SEGMENT_BANDS
    if len(bands) != 2 or not 0 < bands[0] < bands[1]:
        return [
            Error(
                f"ACCOUNT_SEGMENT_BANDS must be two employee counts, smallest first, "
                f"e.g. 200,2000 (got {bands!r}).",
                id="dealdesk.E001",
            )
        ]
    return []
