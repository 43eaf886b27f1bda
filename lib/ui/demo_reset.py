"""Re-creating the demo register (demo mode only): a fresh ``data/demo.db`` with invented data.

The register never deletes anything, and neither does this: the new register is built and
seeded in a file of its own first, then the old file (with its ``-wal``/``-shm`` companions,
so it stays a valid SQLite database) is moved into ``data/demo-backups/`` and the new file
takes its name. The account of whoever resets is copied over (seeding keeps accounts that exist), so they
stay signed in. The :class:`~lib.register.Register` the app holds for the demo URL keeps
working: the SQLite store opens a connection per call, so after its change watcher is closed
and its cache dropped it reads the new file.

Only the newest :data:`KEEP_BACKUPS` backups are kept; older ones (invented data only) are
removed so a demo machine's disk does not fill up.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lib.auth import User, require
from lib.register import Register
from lib.store import DEMO_DB
from lib.store.sqlite import SQLiteStore

# The file this module may replace (tests point it elsewhere).
DEMO_PATH: Path = DEMO_DB
BACKUP_DIR = "demo-backups"
KEEP_BACKUPS = 5
SUFFIXES = ("", "-wal", "-shm", "-journal")
_lock = threading.Lock()


@dataclass(frozen=True)
class ResetResult:
    """What a reset did: rows written per sheet, and where the old file went."""

    counts: dict[str, int]
    backup: Path | None


def is_demo_register(url: str) -> bool:
    """True when ``url`` is the demo file this module may replace."""
    if not url.startswith("sqlite:///"):
        return False
    path = Path(url[len("sqlite:///") :])
    try:
        return path.resolve() == Path(DEMO_PATH).resolve()
    except OSError:
        return False


def _move_set(src: Path, dst: Path) -> None:
    """Move a SQLite file and its companions (``-wal``, ``-shm``) together."""
    for suffix in SUFFIXES:
        a = Path(f"{src}{suffix}")
        if a.exists():
            os.replace(a, f"{dst}{suffix}")


def _prune(folder: Path) -> None:
    backups = sorted(folder.glob("demo-*.db"), reverse=True)
    for old in backups[KEEP_BACKUPS:]:
        for suffix in SUFFIXES:
            Path(f"{old}{suffix}").unlink(missing_ok=True)


def _keep_account(old: Register, new: Register, user: User) -> None:
    """Copy the acting account into the new register (unless the demo data has it), so whoever
    resets the demo is still signed in afterwards."""
    row = old.store.get_row("users", user.username)
    if row is None:
        return
    keys = set(new.schema["users"].by_key) - {"version"}
    new.bulk_append(
        user,
        "users",
        [{k: v for k, v in row.items() if k in keys}],
        action="seed",
        note="保留重建演示台账的账号",
    )


def reset_demo(
    reg: Register,
    user: User,
    *,
    cases: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> ResetResult:
    """Replace the demo register behind ``reg`` with a freshly seeded one.

    ``user`` must be allowed to ``seed`` (an administrator). The data is generated as of
    ``reg``'s today (so a frozen ``LIUYAN_TODAY`` is honoured). Raises ``ValueError`` when
    ``reg`` is not the demo file.
    """
    require(user, "seed")
    store = reg.store
    path = Path(getattr(store, "path", ""))
    if not isinstance(store, SQLiteStore) or path.resolve() != Path(DEMO_PATH).resolve():
        raise ValueError(f"not the demo register: {getattr(store, 'url', store)!r}")
    from lib.demo import seed_demo  # the generator is large: load it only when needed

    stamp = reg.now().strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
    with _lock:
        fresh = path.with_name(f"{path.stem}.new-{stamp}.db")
        new_store = SQLiteStore(fresh, reg.schema)
        new_store.init()
        new_reg = Register(new_store, reg.schema, clock=reg.now)
        try:
            _keep_account(reg, new_reg, user)
            counts = seed_demo(
                new_reg, user, cases=cases, seed=seed, today=reg.today(), progress=progress
            )
        except BaseException:
            new_store.close()
            for suffix in SUFFIXES:
                Path(f"{fresh}{suffix}").unlink(missing_ok=True)
            raise
        new_store.close()
        backup: Path | None = None
        folder = path.parent / BACKUP_DIR
        store.close()  # the change watcher holds the old file open
        if path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            backup = folder / f"{path.stem}-{stamp}.db"
            _move_set(path, backup)
        _move_set(fresh, path)
        reg.invalidate()
        if folder.exists():
            _prune(folder)
    return ResetResult(counts=counts, backup=backup)
