"""Results computed from one register snapshot, remembered while that snapshot lives.

The board, satisfaction and tracking pages compute their figures and worklists once per
snapshot and view (:func:`snapshot_memo`), and reruns, the wall display's refreshes and other
sessions reuse them until the register changes (the Register then replaces its snapshot
object).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from lib.auth import User
from lib.register import RegisterData

MEMO_ENTRIES = 32  # results remembered per snapshot (all users, units, periods together)

T = TypeVar("T")

# id(snapshot) -> (weak reference to it, key -> result). The Register replaces its snapshot
# object on every change (a re-read or a patch after a write), so a result is reused only for
# the very snapshot it was computed from: the weak reference must still point at that object
# (an id can be reused once an object is gone), and the entry is dropped when it dies.
_memo: dict[int, tuple[weakref.ref, OrderedDict[Hashable, Any]]] = {}
_memo_lock = threading.Lock()


def _forget(key: int, ref: weakref.ref) -> None:
    hit = _memo.get(key)
    if hit is not None and hit[0] is ref:
        _memo.pop(key, None)


def snapshot_memo(data: RegisterData, user: User, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, remembered while ``data``'s snapshot lives, for the same ``key`` and the
    same view of it (``user``: the cases they may see, masked for their role).

    Shared by reruns and sessions, so the result must not be changed by the caller. It must not
    refer to ``data`` either (that would keep the snapshot alive).
    """
    snap = data.snapshot
    full = (user.username, user.role, tuple(sorted(user.units)), key)
    with _memo_lock:
        hit = _memo.get(id(snap))
        if hit is not None and hit[0]() is snap and full in hit[1]:
            hit[1].move_to_end(full)
            return hit[1][full]
    value = compute()
    with _memo_lock:
        hit = _memo.get(id(snap))
        if hit is None or hit[0]() is not snap:
            ident = id(snap)
            ref = weakref.ref(snap, lambda r, k=ident: _forget(k, r))
            hit = (ref, OrderedDict())
            _memo[ident] = hit
        hit[1][full] = value
        while len(hit[1]) > MEMO_ENTRIES:
            hit[1].popitem(last=False)
    return value
