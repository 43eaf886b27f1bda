"""``migrate``: copy every sheet of one register to another, verified row by row.

The target must be empty (a fresh file or sheet): migration never merges into or overwrites
someone's data. History is copied as it is (it is append-only and belongs to the cases), and
the target gets one more history row saying where its data came from.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from lib.auth import User, require
from lib.i18n import DomainError, register_messages
from lib.register import Register, open_register

register_messages(
    {
        "mig.not_empty": (
            "目标台账“{url}”的“{sheet}”表已有 {rows} 行数据；迁移只能写入空台账",
            "The target register “{url}” already has {rows} rows in “{sheet}”; "
            "migration only writes into an empty register",
        ),
        "mig.same": ("目标与来源是同一个台账", "The target is the source register"),
        "mig.mismatch": (
            "核对失败：“{sheet}”第 {row} 行与来源不一致（{field}）",
            "Verification failed: row {row} of “{sheet}” differs from the source ({field})",
        ),
    }
)


def _text_rows(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = frame.reindex(columns=keys).fillna("").astype(str)
    return out.reset_index(drop=True)


def migrate(
    source: Register,
    user: User,
    target_url: str,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[str]:
    """Copy ``source`` into the empty register at ``target_url``; return a report."""
    require(user, "migrate")
    if target_url.strip() == source.store.url:
        raise DomainError("mig.same")
    target = open_register(target_url, schema=source.schema, clock=source.clock)
    names = source.schema.names
    src = source.store.read(names)
    dst = target.store.read(names)
    for name in names:
        if len(dst[name]):
            raise DomainError("mig.not_empty", url=target_url, sheet=name, rows=len(dst[name]))
    total = sum(len(src[n]) for n in names)
    done = 0
    report = []
    for name in names:
        keys = source.schema[name].keys
        rows = _text_rows(src[name], keys).to_dict("records")
        extra = [c for c in src[name].columns if c not in keys and c != "_row"]

        def step(d: int, _t: int, base: int = done) -> None:
            if progress:
                progress(base + d, total)

        target.bulk_append(user, name, rows, action="migrate", history=False, progress=step)
        done += len(rows)
        line = f"{source.schema[name].label()}（{name}）：{len(rows)} 行"
        if extra:
            line += f"；未复制的自定义列：{', '.join(extra)}"
        report.append(line)
    copied = target.store.read(names)
    for name in names:
        keys = source.schema[name].keys
        a, b = _text_rows(src[name], keys), _text_rows(copied[name], keys)
        if len(a) != len(b):
            raise DomainError("mig.mismatch", sheet=name, row=min(len(a), len(b)) + 2, field="行数")
        diff = (a != b).to_numpy()
        if diff.any():
            r, c = (int(x[0]) for x in diff.nonzero())
            raise DomainError("mig.mismatch", sheet=name, row=r + 2, field=keys[c])
    target.bulk_append(
        user,
        "history",
        [
            {
                "timestamp": target.now().isoformat(timespec="seconds"),
                "user": user.username,
                "case_id": "",
                "action": "migrate",
                "field": "",
                "old": source.store.url,
                "new": target_url,
            }
        ],
        action="migrate",
        history=False,
    )
    report.append(f"已逐行核对，全部一致：{target_url}")
    return report
