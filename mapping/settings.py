"""Reading validated values out of a parsed TOML table, with errors that name the key.

Pure: the caller reads the file; this checks types and forms and resolves `env:NAME` values
from the environment mapping it is given.
"""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from mapping.oadr.codes import OadrError
from mapping.oadr.timefmt import parse_duration


class ConfigError(ValueError):
    """A configuration value that is missing or has the wrong form; the message names the key."""


class Table:
    """A TOML table with its dotted path, for error messages."""

    def __init__(self, data: Mapping[str, Any], path: str, environ: Mapping[str, str]) -> None:
        self.data = data
        self.path = path
        self.environ = environ

    def _key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _raw(self, key: str, default: Any) -> Any:
        value = self.data.get(key, default)
        if isinstance(value, str) and value.startswith("env:"):
            name = value[4:]
            if name not in self.environ:
                raise ConfigError(f"{self._key(key)}: environment variable {name} is not set")
            return self.environ[name]
        return value

    def table(self, key: str) -> "Table":
        """A sub-table (an empty one when absent)."""
        value = self.data.get(key, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"{self._key(key)}: expected a table, got {type(value).__name__}")
        return Table(value, self._key(key), self.environ)

    def tables(self, key: str) -> list["Table"]:
        """An array of tables (`[[key]]`), empty when absent."""
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise ConfigError(f"{self._key(key)}: expected an array of tables ([[{key}]])")
        return [Table(v, f"{self._key(key)}[{i}]", self.environ) for i, v in enumerate(value)]

    def string(self, key: str, default: str | None = None) -> str:
        """A non-empty string."""
        value = self._raw(key, default)
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{self._key(key)}: expected a non-empty string, got {value!r}")
        return value

    def integer(self, key: str, default: int, minimum: int | None = None, maximum: int | None = None) -> int:
        """An integer within [minimum, maximum]."""
        value = self._raw(key, default)
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{self._key(key)}: expected an integer, got {value!r}")
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise ConfigError(f"{self._key(key)}: expected an integer from {minimum} to {maximum}, got {value}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        """true or false."""
        value = self._raw(key, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self._key(key)}: expected true or false, got {value!r}")
        return value

    def duration(self, key: str, default: str | timedelta) -> timedelta:
        """An ISO 8601 duration such as PT10S, zero or more (`default`: a duration or its ISO 8601 text)."""
        value = self._raw(key, default)
        if isinstance(value, timedelta):  # the default, given as a value (e.g. from a settings dataclass)
            return value
        try:
            parsed = parse_duration(str(value))
        except OadrError as exc:
            raise ConfigError(f"{self._key(key)}: expected an ISO 8601 duration such as PT10S, got {value!r}") from exc
        if parsed < timedelta(0):
            raise ConfigError(f"{self._key(key)}: expected a positive duration, got {value!r}")
        return parsed

    def positive_duration(self, key: str, default: str | timedelta, minimum: timedelta | None = None) -> timedelta:
        """A duration above zero, and at least `minimum` when given: for intervals and timeouts, where zero
        means a busy loop, a timeout that fires at once, or (aiohttp) no timeout at all."""
        parsed = self.duration(key, default)
        if parsed <= timedelta(0):
            raise ConfigError(f"{self._key(key)}: expected a duration above zero, got {self._raw(key, default)!r}")
        if minimum is not None and parsed < minimum:
            raise ConfigError(
                f"{self._key(key)}: expected at least {minimum.total_seconds():g} s, got {self._raw(key, default)!r}"
            )
        return parsed

    def string_lists(self) -> dict[str, tuple[str, ...]]:
        """The whole table as name → list of strings (for groups and resources)."""
        result = {}
        for name, value in self.data.items():
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{self._key(name)}: expected a list of strings")
            result[name] = tuple(value)
        return result

    def reject_unknown(self, known: set[str]) -> None:
        """Refuse keys this table does not define (a typo must not pass silently)."""
        unknown = sorted(set(self.data) - known)
        if unknown:
            raise ConfigError(f"{self._key(unknown[0])}: unknown key (known: {', '.join(sorted(known))})")
