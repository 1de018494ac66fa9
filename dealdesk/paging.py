"""Paging long lists without counting every row."""

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """Counts at most `count_cap` rows and pages through those, as the CRM's own list views
    do ("10,000+ deals"): filters and sorting reach the rest.

    An exact COUNT(*) walks every matching row; over 100,000 deals on PostgreSQL that is a
    third of the list page's time (bench/bench_deal_list.py). Counting a LIMITed subquery
    stops at the cap, in the same one query.
    """

    def __init__(self, object_list, per_page: int, *, count_cap: int) -> None:
        super().__init__(object_list, per_page)
        self.count_cap = count_cap

    @cached_property
    def _count_to_cap(self) -> int:
        # Unordered: any order counts the same, and the planner may pick the smallest index.
        return self.object_list.order_by()[: self.count_cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._count_to_cap, self.count_cap)

    @property
    def is_capped(self) -> bool:
        """More rows match than were counted."""
        return self._count_to_cap > self.count_cap


def sorted_by(
    rows: QuerySet, *, sort: str, sorts: dict[str, str], default: str
) -> tuple[QuerySet, str]:
    """`rows` ordered by a list page's ?sort=key or -key, looked up in the page's whitelist
    `sorts` (key → column; anything else falls back to `default`), and the sort applied.
    pk breaks ties in the same direction so pages never repeat or skip a row."""
    key = sort.lstrip("-")
    if key not in sorts:
        sort, key = default, default.lstrip("-")
    direction = "-" if sort.startswith("-") else ""
    return rows.order_by(f"{direction}{sorts[key]}", f"{direction}pk"), sort
