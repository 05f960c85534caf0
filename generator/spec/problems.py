"""Several problems found by one model validator, each placed at its own key.

pydantic places a validator's error at the value it validated. A rule such as
"'emit' is only for server_to_client events" concerns one key of the event, and
one event can break several rules at once; raising `Problems` keeps each message
at its key and keeps all of them (the loader unpacks it into diagnostics).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    at: tuple[str | int, ...]  # path below the validated value; () = the value itself
    message: str
    key: bool = False  # point at the key (for "this key does not belong here")


class Problems(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


def raise_any(problems: list[Problem]) -> None:
    if problems:
        raise Problems(problems)
