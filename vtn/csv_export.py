"""CSV the operator can open in a spreadsheet safely: cells a spreadsheet would run as a formula are
quoted, and download names are safe in a header whatever the ids hold."""

from collections.abc import Iterable, Mapping
from typing import Any

#: a spreadsheet treats a cell starting with one of these as a formula (VEN names and reasons come from outside)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value`, with a leading apostrophe when it is text a spreadsheet would run as a formula."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def safe_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A DictWriter row with every cell made safe."""
    return {key: safe_cell(value) for key, value in row.items()}


def safe_values(values: Iterable[Any]) -> list[Any]:
    """A writer row with every cell made safe."""
    return [safe_cell(value) for value in values]


def attachment(stem: str, suffix: str = ".csv") -> str:
    """A Content-Disposition value for a download named after `stem` (letters, digits, - _ . only)."""
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:100] or "export"
    return f'attachment; filename="{name}{suffix}"'
