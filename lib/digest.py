"""The daily digest (每日信访, SPEC §6): plain text ready to paste into a group chat.

Yesterday's new cases, today's due cases and the overdue cases, by unit. Built from the data a
user may see (a handler's digest holds only their units), with no PII at all.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from lib.metrics import case_measures
from lib.register import RegisterData

WEEKDAYS_ZH = "一二三四五六日"
MAX_LISTED = 5


def _short(title: str, n: int = 18) -> str:
    title = " ".join(str(title).split())
    return title if len(title) <= n else title[: n - 1] + "…"


def _cases_line(frame: pd.DataFrame, lang: str, extra: str = "") -> str:
    items = []
    for _, c in frame.head(MAX_LISTED).iterrows():
        tail = extra.format(days=int(c.get("days_overdue", 0))) if extra else ""
        items.append(f"{c['case_id']}《{_short(c['title'])}》{tail}")
    more = len(frame) - MAX_LISTED
    sep = "; " if lang == "en" else "；"
    text = sep.join(items)
    if more > 0:
        text += f" … and {more} more" if lang == "en" else f"等（另有 {more} 件）"
    return text


def daily_digest(data: RegisterData, day: dt.date, lang: str = "zh") -> str:
    """The digest for ``day`` (figures as of ``day``)."""
    cases = data.cases
    m = case_measures(cases, data.rules, day) if len(cases) else None
    yesterday = day - dt.timedelta(days=1)
    lines: list[str] = []
    if lang == "en":
        lines.append(f"[Daily petition digest] {day.isoformat()}")
    else:
        lines.append(
            f"【每日信访】{day.year}年{day.month}月{day.day}日（星期{WEEKDAYS_ZH[day.weekday()]}）"
        )
    if m is None:
        lines.append("No cases in the register." if lang == "en" else "台账中暂无案件。")
        return "\n".join(lines)
    used = [c for c in ("case_id", "title", "received_at", "channel", "instructed") if c in cases]
    frame = cases[used].join(
        m[["unit_asof", "current_due", "days_overdue", "overdue", "overdue_accept"]]
    )

    new = frame[frame["received_at"] == pd.Timestamp(yesterday)]
    by_channel = new["channel"].value_counts()
    if lang == "en":
        parts = ", ".join(f"{k} {v}" for k, v in by_channel.items())
        lines.append(
            f"1. New yesterday ({yesterday.isoformat()}): {len(new)}"
            + (f" ({parts})" if parts else "")
        )
    else:
        parts = "，".join(f"{k} {v} 件" for k, v in by_channel.items())
        instructed = int(new["instructed"].sum()) if "instructed" in new else 0
        text = f"一、昨日（{yesterday.month}月{yesterday.day}日）新登记 {len(new)} 件"
        if parts:
            text += f"：{parts}"
        if instructed:
            text += f"；其中批示件 {instructed} 件"
        lines.append(text + "。")

    due = frame[(frame["current_due"] == pd.Timestamp(day)) & ~frame["overdue"]]
    if lang == "en":
        lines.append(f"2. Due today: {len(due)}")
    else:
        lines.append(f"二、今日到期 {len(due)} 件" + ("：" if len(due) else "。"))
    for unit, g in due.groupby("unit_asof", sort=True):
        head = f"  {unit} {len(g)}: " if lang == "en" else f"  {unit} {len(g)} 件："
        lines.append(head + _cases_line(g, lang))

    over = frame[frame["overdue"]].sort_values("days_overdue", ascending=False)
    if lang == "en":
        lines.append(f"3. Overdue: {len(over)}")
    else:
        lines.append(f"三、逾期未办 {len(over)} 件" + ("：" if len(over) else "。"))
    counts = over.groupby("unit_asof").size().sort_values(ascending=False)
    for unit in counts.index:
        g = over[over["unit_asof"] == unit]
        n_acc = int(g["overdue_accept"].sum())
        if lang == "en":
            lines.append(
                f"  {unit} {len(g)} (not accepted {n_acc}, not concluded {len(g) - n_acc}): "
                + _cases_line(g, lang, " {days} days overdue")
            )
        else:
            lines.append(
                f"  {unit} {len(g)} 件（逾期未受理 {n_acc} 件，逾期未办结 {len(g) - n_acc} 件）："
                + _cases_line(g, lang, "逾期{days}天")
            )
    if len(over) and lang != "en":
        lines.append("请各承办单位抓紧办理，按期答复。")
    return "\n".join(lines)
