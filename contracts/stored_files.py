"""Files saved to storage beside rows written in a transaction: if the block fails (and its
transaction rolls back), the files go too, so no stored document outlives the row that would
have named it."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.files.storage import default_storage


@contextmanager
def deleted_on_failure(names: list[str] | None = None) -> Iterator[list[str]]:
    """Yield the list of stored names (given, and appended to in the block); delete them all
    when the block raises. Enter it before the transaction, so the rollback comes first."""
    stored = list(names or [])
    try:
        yield stored
    except Exception:
        for name in stored:
            default_storage.delete(name)
        raise
