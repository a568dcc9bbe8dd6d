"""The filter builder behind every list endpoint: optional filters → one SQL WHERE.

Each store says which column a filter is on; this keeps the conditions and
their parameters in step (one `%s` per value, in order) and leaves out a
filter that was not given (None, or an empty list). Values always travel as
parameters; only the store's own column expressions become SQL text.
"""

from typing import Any


class Where:
    """AND-ed conditions and their positional parameters."""

    def __init__(self, *always: str) -> None:
        self.clauses: list[str] = list(always)
        self.params: list[Any] = []

    def add(self, clause: str, *params: Any) -> "Where":
        """A condition with one `%s` per parameter."""
        self.clauses.append(clause)
        self.params.extend(params)
        return self

    def given(self, value: Any, clause: str, *params: Any) -> "Where":
        """`clause` with `params` (or `value` alone) when a value was given."""
        if value is None or (isinstance(value, (list, tuple)) and not value):
            return self
        return self.add(clause, *(params or (value,)))

    def equal(self, column: str, value: Any) -> "Where":
        return self.given(value, f"{column} = %s")

    def sql(self) -> str:
        """` WHERE a AND b`, or "" without conditions."""
        return f" WHERE {' AND '.join(self.clauses)}" if self.clauses else ""
