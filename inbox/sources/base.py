"""What every inbox source is: one model's rows that wait for a person, read in one query.

A source names its kind, the group that owns it, when each row started waiting (`since`, an
SQL expression) and which rows a person may see; `describe` words one loaded row. The
inbox pages through all sources at once as one UNION of (kind, key, group, since), then
loads the page's rows with one query per kind on the page (inbox/selectors.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from django.db.models import CharField, Model, Q, QuerySet, Value
from django.db.models.functions import Cast

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.db.models import Expression

# Not a Role (dealdesk/roles.py): staff who run the integrations from the admin.
ADMIN = "Admin"


@dataclass(frozen=True)
class Described:
    """One waiting row in words: what it is, why it stopped, where it is resolved."""

    title: str
    reason: str
    url: str
    # The link's words: the screen the person resolves it on.
    act: str
    subtitle: str = ""


class Source:
    kind: ClassVar[str]
    label: ClassVar[str]
    group: ClassVar[str]
    model: ClassVar[type[Model]]
    # The permission a person needs to act on these rows where they are resolved.
    perm: ClassVar[str]
    # Joins `describe` reads, for the page's one query per kind.
    related: ClassVar[tuple[str, ...]] = ()

    def since(self) -> Expression:
        """When a row started waiting (its age and SLA are measured from here)."""
        raise NotImplementedError

    def waiting(self) -> QuerySet:
        """Every row that waits for a person, whoever they are."""
        raise NotImplementedError

    def visible(self, user: AbstractBaseUser) -> Q | None:
        """Which waiting rows `user` may see (Q() all, None none)."""
        return Q() if user.has_perm(self.perm) else None

    def group_of(self) -> Expression:
        """The owning group as a column (one group per kind unless a source splits it)."""
        return Value(self.group, output_field=CharField())

    def groups(self, user: AbstractBaseUser) -> tuple[str, ...]:
        """The groups of the rows `user` sees (for the group filter)."""
        return (self.group,)

    def describe(self, obj: Model) -> Described:
        raise NotImplementedError

    def entries(self, user: AbstractBaseUser) -> QuerySet | None:
        """The rows `user` sees, annotated with the columns the inbox unions and filters on
        (None when they see none of this kind)."""
        visible = self.visible(user)
        if visible is None:
            return None
        return self.annotated(self.waiting().filter(visible))

    def annotated(self, rows: QuerySet) -> QuerySet:
        return rows.annotate(
            inbox_kind=Value(self.kind, output_field=CharField()),
            inbox_key=Cast("pk", output_field=CharField()),
            inbox_group=self.group_of(),
            inbox_since=self.since(),
        )

    def load(self, keys: list[str]) -> dict[str, Model]:
        """The page's rows of this kind by key, with what `describe` reads: one query."""
        rows = self.model.objects.filter(pk__in=keys)
        if self.related:
            rows = rows.select_related(*self.related)
        return {str(row.pk): row for row in rows}
