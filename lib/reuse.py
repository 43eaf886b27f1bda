"""Work done once inside one block: the same figure of the same frames is computed once.

A bulletin or the supervision board asks for the per-case measures of one cohort several
times (the league table, the totals, each chart, the case list, the digest): inside
``with shared_work():`` the functions that use :func:`reuse` — the cohort selection, the
derived dates, the per-case measures, the metrics' cohort — compute each distinct call once
and hand the same result to every later caller. Outside such a block they simply compute.

A call is "the same" when it gets the very same frame objects (identity, not equality: the
snapshot's frames are never changed in place) and equal parameters. The block keeps every
object it was given alive until it ends, so an id cannot be reused by a new frame meanwhile.
Results are shared, so callers must treat them as read-only (copy before changing a column).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Hashable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_scope: contextvars.ContextVar[dict[Hashable, tuple[tuple[Any, ...], Any]] | None] = (
    contextvars.ContextVar("lib_reuse_scope", default=None)
)


@contextlib.contextmanager
def shared_work() -> Iterator[None]:
    """Reuse results inside this block (nested blocks join the outer one)."""
    if _scope.get() is not None:
        yield
        return
    token = _scope.set({})
    try:
        yield
    finally:
        _scope.reset(token)


def reuse(name: str, objects: tuple[Any, ...], params: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or the result an earlier identical call in this block got.

    ``objects`` are the inputs compared by identity (frames, rules), ``params`` the rest,
    compared by equality. Outside :func:`shared_work` this is just ``compute()``.
    """
    memo = _scope.get()
    if memo is None:
        return compute()
    key = (name, tuple(id(o) for o in objects), params)
    hit = memo.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], objects, strict=True)):
        return hit[1]
    value = compute()
    memo[key] = (objects, value)
    return value


__all__ = ["reuse", "shared_work"]
