"""Saved deal-list filters: each person's own, named, kept as a cleaned query string."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404

from dealdesk.models import SavedDealFilter

# Enough for every way one person slices the list; a bound on rows a script could pile up.
SAVED_FILTERS_PER_USER = 50


def saved_filters_of(*, user: AbstractBaseUser) -> list[SavedDealFilter]:
    return list(SavedDealFilter.objects.filter(user=user))


def saved_filter_save(
    *, user: AbstractBaseUser, name: str, query_string: str
) -> tuple[SavedDealFilter, bool]:
    """Save `query_string` (already cleaned by DealFilterForm) as the user's filter `name`,
    replacing the one of that name if any: (the filter, whether it is new)."""
    mine = SavedDealFilter.objects.filter(user=user)
    if not mine.filter(name=name).exists() and mine.count() >= SAVED_FILTERS_PER_USER:
        raise ValidationError(
            f"You have {SAVED_FILTERS_PER_USER} saved filters, the most one person keeps: "
            "delete one first."
        )
    saved, created = SavedDealFilter.objects.update_or_create(
        user=user, name=name, defaults={"query_string": query_string}
    )
    return saved, created


def saved_filter_delete(*, user: AbstractBaseUser, pk: int) -> SavedDealFilter:
    """Delete one of the user's own saved filters; anyone else's is a 404 (as if absent)."""
    saved = get_object_or_404(SavedDealFilter, pk=pk, user=user)
    saved.delete()
    return saved
