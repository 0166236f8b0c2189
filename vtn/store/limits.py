"""The limits the store's schema sets on what it holds, read from the models: the one source of those numbers."""

from collections.abc import Iterable

from vtn.store.models import Base


def column_length(column: str) -> int:
    """The length of the text column `table.column` (KeyError: no such column; ValueError: it has no length)."""
    table, _, name = column.partition(".")
    length = getattr(Base.metadata.tables[table].c[name].type, "length", None)
    if length is None:
        raise ValueError(f"{column} is not a text column of bounded length")
    return length


def column_lengths(columns: Iterable[str]) -> dict[str, int]:
    """`column_length` of each column."""
    return {column: column_length(column) for column in columns}
