"""Which of two values allows more: payload types, bounds, enums, access rules, limits.

Every comparison answers with two flags: `narrowed` (the old side allowed something
the new side does not) and `widened` (the new side allows something the old did not).
Both can be true at once (an enum that swapped a value). Who a change breaks then
depends on the direction: a narrowed client→server field refuses what deployed
clients send; a widened server→client field sends what deployed clients never saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..spec.types import ANY, TypeRef


@dataclass(frozen=True)
class Delta:
    narrowed: bool = False
    widened: bool = False

    def __bool__(self) -> bool:
        return self.narrowed or self.widened

    def __or__(self, other: Delta) -> Delta:
        return Delta(self.narrowed or other.narrowed, self.widened or other.widened)


SAME = Delta()


def subtype(a: TypeRef, b: TypeRef) -> bool:
    """Whether every JSON value of type `a` is a value of type `b`."""
    if b.kind == "any":
        return True
    if a.kind == "any":
        return False
    if a.nullable and not b.nullable:
        return False
    if a.kind == b.kind:
        if a.kind in ("list", "dict"):
            return subtype(a.item or ANY, b.item or ANY)
        return True
    # JSON has one number type: an int is a valid float payload (and a TypeScript number either way).
    return a.kind == "int" and b.kind == "float"


def type_delta(old: TypeRef, new: TypeRef) -> Delta:
    return Delta(narrowed=not subtype(old, new), widened=not subtype(new, old))


def lower_bound_delta(old: float | None, new: float | None) -> Delta:
    """min_length / ge: raising the bound (or adding one) narrows, lowering it (or removing it) widens."""
    if old == new:
        return SAME
    if old is None:
        return Delta(narrowed=True)
    if new is None:
        return Delta(widened=True)
    return Delta(narrowed=new > old, widened=new < old)


def upper_bound_delta(old: float | None, new: float | None) -> Delta:
    """max_length / le: lowering the bound (or adding one) narrows, raising it (or removing it) widens."""
    if old == new:
        return SAME
    if old is None:
        return Delta(narrowed=True)
    if new is None:
        return Delta(widened=True)
    return Delta(narrowed=new < old, widened=new > old)


def enum_delta(old: list[Any] | None, new: list[Any] | None) -> Delta:
    """No enum allows every value of the type."""
    if old is None and new is None:
        return SAME
    if old is None:
        return Delta(narrowed=True)
    if new is None:
        return Delta(widened=True)
    before, after = _keys(old), _keys(new)
    return Delta(narrowed=bool(before - after), widened=bool(after - before))


def _keys(values: list[Any]) -> set[tuple[str, Any]]:
    # 1 and 1.0 are one JSON value; True is not 1.
    return {("bool" if isinstance(v, bool) else "num" if isinstance(v, (int, float)) else "str", v) for v in values}


# -- access -----------------------------------------------------------------------


def access_kind(rule: str) -> str:
    return rule if rule in ("authenticated", "self") else "callable"


def access_delta(old: str, new: str) -> Delta:
    """`self` admits one user per room; a callable decides per room; `authenticated` admits everyone.

    Two different callables cannot be ranked: the new one may admit anyone, so the
    change counts as widened (and narrowed) until a person has read it.
    """
    if old == new:
        return SAME
    rank = {"self": 0, "callable": 1, "authenticated": 2}
    a, b = rank[access_kind(old)], rank[access_kind(new)]
    if a == b:  # two callables
        return Delta(narrowed=True, widened=True)
    return Delta(narrowed=b < a, widened=b > a)


# -- rate limits and sizes (version 2 keys, read with getattr so they work the day they land) --


def get(value: Any, name: str) -> Any:
    """A key of a mapping or an attribute of a model: version 2 values may arrive as either."""
    if isinstance(value, dict):
        return value.get(name)
    return getattr(value, name, None)


def rate_delta(old: Any, new: Any) -> Delta:
    """rate_limit {rate, per_s, burst}: a higher sustained rate or a larger burst lets more through."""
    if old == new:
        return SAME
    if old is None:
        return Delta(narrowed=True)
    if new is None:
        return Delta(widened=True)
    old_rate, new_rate = _per_second(old), _per_second(new)
    old_burst, new_burst = _burst(old), _burst(new)
    delta = SAME
    if old_rate is not None and new_rate is not None:
        delta = delta | Delta(narrowed=new_rate < old_rate, widened=new_rate > old_rate)
    if old_burst is not None and new_burst is not None:
        delta = delta | Delta(narrowed=new_burst < old_burst, widened=new_burst > old_burst)
    if not delta:
        # Spelled differently but equal in effect (rate 2 per 1 s == rate 4 per 2 s), or not comparable.
        comparable = None not in (old_rate, new_rate, old_burst, new_burst)
        return SAME if comparable else Delta(narrowed=True, widened=True)
    return delta


def _per_second(limit: Any) -> float | None:
    rate, per = _number(get(limit, "rate")), _number(get(limit, "per_s"))
    if rate is None:
        return None
    return rate / per if per else rate


def _burst(limit: Any) -> float | None:
    burst = _number(get(limit, "burst"))
    return burst if burst is not None else _number(get(limit, "rate"))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def size_delta(old: int | None, new: int | None) -> Delta:
    """max_bytes, with the project default already filled in on both sides."""
    return upper_bound_delta(old, new)
