"""Invented but realistic demo data for the register (SPEC §8 ``seed-demo``).

:func:`generate` is pure: given ``(n, seed, today, rules)`` it returns the rows of every sheet
as canonical text (units, users, cases, instructions, supervisions, history), identical for
identical arguments. Cases are spread over the 12 months before ``today`` and carry a full,
consistent lifecycle (assignment, acceptance or non-acceptance, returns and reassignment,
extensions, replies, 三见面, evaluations), with leader instructions (批示), supervision records
and escalations, repeat messages and confidential reports. Every lifecycle step also leaves
``history`` rows like the service layer's, time-stamped on the step's day, one per field the
step set (intake, assign, object, accept/reject, meet, extend, reply, evaluate, instruct,
supervise, escalate). To keep a 100,000-case register's history writable in seconds, the
fields the app derives (``status``, ``accept_due``, ``handle_due``) get no rows of their own,
except the new ``handle_due`` of an extension, which is the point of that step.

How it stays fast: the lifecycle dates of all cases are drawn at once with numpy (day numbers,
masks for the steps that happened by ``today``); ``status``, ``accept_due`` and ``handle_due``
follow SPEC §3–4 vectorised (calendar days, or :func:`lib.workflow.add_days_series` for working
days) and the tests prove them equal to :func:`lib.workflow.derive` case by case. Only the
text (titles, contents, replies, history rows) is built in a plain Python loop.

:func:`seed_demo` writes the rows into a register without cases through
:meth:`lib.register.Register.bulk_append` (the one way in). People, companies and phone numbers
are invented; places are the towns and streets of Guang'an's districts and counties. The text
material lives in :mod:`lib.demo_text`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import random
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from lib import demo_text as tx
from lib import workflow
from lib.auth import User, hash_password, require
from lib.i18n import DomainError, register_messages
from lib.register import ESCALATION_KIND, Register
from lib.schema import Schema, default_schema
from lib.store.base import id_number

DEMO_PASSWORD = "demo"
SHEETS = ("units", "users", "cases", "instructions", "supervisions", "history")
# The order seed_demo writes in. ``Register.bulk_append`` re-reads the whole register before
# every transaction (``Register.now`` loads it), so the big sheets go in while the register is
# still small, and the cases last, in one transaction: see bench/bench_seed.py.
# Cases before the rows that refer to them.
WRITE_ORDER = ("units", "users", "cases", "instructions", "supervisions", "history")
TZ_SUFFIX = "+08:00"  # Asia/Shanghai, the bureau's default time zone
# Rows per transaction, by sheet (measured with bench/bench_seed.py).
CHUNKS = {
    "cases": 20_000,
    "history": 100_000,
    "instructions": 100_000,
    "supervisions": 100_000,
}
EVALUATIONS = ("", "满意", "基本满意", "不满意")
_EPOCH = dt.date(1970, 1, 1).toordinal()

register_messages(
    {
        "err.seed_not_empty": (
            "台账中已有 {count} 件案件，不能生成演示数据：演示数据只能写入没有案件的空台账。",
            "The register already holds {count} cases: demo data can only be seeded into a "
            "register without cases.",
        ),
        "err.seed_partial": (
            "台账的变更记录中已有案件的记录（可能是上次生成演示数据中途中断留下的），"
            "不能再生成演示数据：请使用新的空台账。",
            "The register's history already holds case entries (perhaps left by an interrupted "
            "seed): demo data can only be seeded into a new, empty register.",
        ),
    }
)


@functools.cache
def demo_password_hash() -> str:
    """The scrypt hash of the demo password, computed once per process (scrypt is slow)."""
    return hash_password(DEMO_PASSWORD)


# --- small helpers ---------------------------------------------------------------------------


def _id_check(body: str) -> str:
    """The GB 11643 check character of the first 17 digits of an ID number."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def _greeting(addressed_to: str) -> str:
    """How a message greets its addressee: 市委书记 -> 书记, 岳池县长 -> 县长, else 领导."""
    if addressed_to.endswith("书记"):
        return "书记"
    if addressed_to.endswith("长") and len(addressed_to) >= 2:
        return addressed_to[-2:]
    return "领导"


def _weights(pairs: Any) -> tuple[list[Any], np.ndarray]:
    items = [p[0] for p in pairs]
    w = np.array([float(p[1]) for p in pairs])
    return items, w / w.sum()


def _pick(u: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Indices drawn with probabilities ``p`` from uniforms ``u`` (inverse CDF)."""
    cum = np.cumsum(p)
    cum[-1] = 1.0
    return np.minimum(np.searchsorted(cum, u, side="right"), len(p) - 1)


def _tri(u: np.ndarray, lo: np.ndarray, mode: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Triangular draws on [lo, hi] with the given mode, from uniforms (any width, even 0)."""
    lo, mode, hi = (np.asarray(x, dtype=float) for x in (lo, mode, hi))
    mode = np.clip(mode, lo, hi)
    width = hi - lo
    safe = np.where(width > 0, width, 1.0)
    c = np.where(width > 0, (mode - lo) / safe, 0.5)
    left = lo + np.sqrt(u * width * (mode - lo))
    right = hi - np.sqrt((1 - u) * width * (hi - mode))
    return np.where(u < c, left, right)


class _Slots(dict):
    """Template slot values of one message, drawn lazily (only the slots a template uses)."""

    def __init__(self, gen: _Generator, region: str, town: str, received: dt.date) -> None:
        super().__init__(region=region, town=town)
        self.gen = gen
        self.received = received

    def __missing__(self, key: str) -> str:
        value = self.gen.slot(key, self)
        self[key] = value
        return value


# Order of the steps within one day (history timestamps follow it).
_ORDER = {
    "intake": 0,
    "instruct": 1,
    "assign": 2,
    "object": 3,
    "reassign": 4,  # the new assignment after a return (退回), possibly the same day
    "accept": 5,
    "reject": 5,
    "meet": 6,
    "extend": 7,
    "supervise": 8,
    "reply": 9,
    "evaluate": 10,
    "escalate": 11,
}


class _Generator:
    """Builds every sheet's rows for ``n`` cases; see :func:`generate`."""

    def __init__(
        self,
        n: int,
        seed: int,
        today: dt.date,
        rules: workflow.Rules,
        prefix: str,
        password_hash: str,
        schema: Schema,
    ) -> None:
        self.n = n
        self.rng = random.Random(seed)  # text
        self.np = np.random.default_rng(seed)  # lifecycle
        self.today = today
        self.t = today.toordinal()
        self.rules = rules
        self.prefix = prefix
        self.password_hash = password_hash
        self.schema = schema
        self.unit_list = list(tx.UNITS)
        self.units = {u.name: u for u in tx.UNITS}
        self.unit_index = {u.name: k for k, u in enumerate(tx.UNITS)}
        rng = self.rng
        # Units differ in quality, so the league table has a spread.
        self.quality = np.array([rng.uniform(0.2, 1.0) for _ in tx.UNITS])
        self.leads = {u.name: self._lead_pool(u) for u in tx.UNITS}
        self.user_names = {s[0]: s[1] for s in tx.STAFF}
        for u in tx.UNITS:
            self.user_names[f"handler_{u.code}"] = u.handler
        self.instr_rows: list[dict[str, str]] = []
        self.sup_rows: list[dict[str, str]] = []
        self.history: list[dict[str, str]] = []
        self._iso_base = self.t - 800
        self._iso = [dt.date.fromordinal(self._iso_base + k).isoformat() for k in range(800 + 800)]

    # -- reference data ------------------------------------------------------------------

    def _person_name(self) -> str:
        rnd = self.rng.random
        given = tx.GIVEN_CHARS[int(rnd() * len(tx.GIVEN_CHARS))]
        if rnd() < 0.7:
            given += tx.GIVEN_CHARS[int(rnd() * len(tx.GIVEN_CHARS))]
        return tx.SURNAMES[int(rnd() * len(tx.SURNAMES))] + given

    def _lead_pool(self, u: tx.UnitDef) -> list[str]:
        if u.kind == "区市县":
            head = {"区": "区长", "县": "县长", "市": "市长"}[u.name[-1]]
            titles = [
                t.replace("{head}", head) if "{head}" in t else u.name[-1] + t
                for t in tx.LEAD_TITLES_COUNTY
            ]
        elif u.kind == "园区":
            titles = ["管委会主任", "管委会副主任", "管委会副主任"]
        elif u.name.endswith("委"):
            titles = ["主任", "副主任", "副主任"]
        elif u.name.endswith("公司"):
            titles = ["总经理", "副总经理", "副总经理"]
        else:
            titles = list(tx.LEAD_TITLES_DEPT)
        return [f"{t} {self._person_name()}" for t in titles]

    def _row(self, sheet: str, values: Mapping[str, str]) -> dict[str, str]:
        row = self.schema[sheet].empty_row()
        row.update(values)
        return row

    def unit_rows(self) -> list[dict[str, str]]:
        """The ``units`` rows (SPEC §2.2)."""
        return [
            self._row(
                "units",
                {
                    "name": u.name,
                    "kind": u.kind,
                    "parent": "",
                    "contact": u.contact,
                    "phone": u.phone,
                    "active": "TRUE",
                    "version": "1",
                },
            )
            for u in tx.UNITS
        ]

    def user_rows(self) -> list[dict[str, str]]:
        """Demo accounts: one or more per role, and a handler for every unit."""
        people = [(name, display, role, "") for name, display, role in tx.STAFF]
        people += [(f"handler_{u.code}", u.handler, "handler", u.name) for u in tx.UNITS]
        return [
            self._row(
                "users",
                {
                    "username": name,
                    "display_name": display,
                    "role": role,
                    "units": units,
                    "email": "",
                    "password_hash": self.password_hash,
                    "must_change_password": "FALSE",
                    "active": "TRUE",
                    "version": "1",
                },
            )
            for name, display, role, units in people
        ]

    # -- dates ---------------------------------------------------------------------------

    def iso(self, day: int) -> str:
        """``YYYY-MM-DD`` of a day number (proleptic ordinal); '' for none (< 0)."""
        if day < 0:
            return ""
        k = day - self._iso_base
        if 0 <= k < len(self._iso):
            return self._iso[k]
        return dt.date.fromordinal(day).isoformat()

    def _add(self, start: np.ndarray, days: Any, kind: str, valid: np.ndarray) -> np.ndarray:
        """``start + days`` in ``kind`` days for the ``valid`` entries (others: -1)."""
        if kind == workflow.CALENDAR:
            return np.where(valid, start + days, -1)
        safe = np.where(valid, start, self.t)
        ser = pd.Series((safe - _EPOCH).astype("datetime64[D]"))
        n = pd.Series(np.broadcast_to(np.asarray(days, dtype=np.int64), safe.shape).copy())
        out = workflow.add_days_series(ser, n, kind)
        res = out.to_numpy().astype("datetime64[D]").astype(np.int64) + _EPOCH
        return np.where(valid, res, -1)

    def _objection_due(self, start: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """The last day of the return window (N working days), vectorised."""
        try:
            return self._add(start, self.rules.object_working_days, workflow.WORKING, valid)
        except DomainError:  # a year the holiday calendar does not cover: weekdays only
            safe = (np.where(valid, start, self.t) - _EPOCH).astype("datetime64[D]")
            due = np.busday_offset(safe, self.rules.object_working_days, roll="backward")
            return np.where(valid, due.astype(np.int64) + _EPOCH, -1)

    # -- drawing the register ------------------------------------------------------------

    def _draw(self) -> None:
        """Everything about the cases that is not text, as numpy arrays (oldest case first)."""
        n, g, t = self.n, self.np, self.t
        back = np.arange(365)
        weekday = (t - back - 1) % 7  # Monday = 0 (ordinal 1 was a Monday)
        w = np.where(weekday == 6, 0.7, np.where(weekday == 5, 0.8, 1.0))
        w = w * (1.0 + 0.3 * (365 - back) / 365)  # a little more mail lately
        self.recv = np.sort(t - g.choice(back, size=n, p=w / w.sum()))
        _, p_topic = _weights([(k, tp.weight) for k, tp in enumerate(tx.TOPICS)])
        self.topic = g.choice(len(tx.TOPICS), size=n, p=p_topic)
        counties, p_county = _weights(tx.COUNTY_WEIGHTS.items())
        self.county = g.choice(len(counties), size=n, p=p_county)
        n_towns = np.array([len(tx.TOWNS[c]) for c in counties])
        self.town = (g.random(n) * n_towns[self.county]).astype(np.int64)
        self.u = {name: g.random(n) for name in _UNIFORMS}

    def _route(self, topic: np.ndarray, county: np.ndarray, town: np.ndarray) -> np.ndarray:
        """The handling unit: the county (属地), the domain's department, or the park."""
        u, idx = self.u, self.unit_index
        county_unit = np.array([idx[c] for c in tx.COUNTY_WEIGHTS])[county]
        mode = np.empty(len(tx.TOPICS), dtype=np.int64)  # 0 county, 1 department
        dept = np.full(len(tx.TOPICS), -1, dtype=np.int64)
        alt = np.full(len(tx.TOPICS), -1, dtype=np.int64)
        park_topic = np.zeros(len(tx.TOPICS), dtype=bool)
        for k, tp in enumerate(tx.TOPICS):
            default = tx.DOMAIN_UNIT[tp.domain]
            park_topic[k] = tp.domain in ("企业", "环保", "城建", "就业")
            if tp.unit == "region":
                mode[k] = 0
                alt[k] = idx[default] if default else -1
            else:
                name = tp.unit or default
                mode[k] = 1 if name else 0
                dept[k] = idx[name] if name else -1
        width = max(len(v) for v in tx.TOWNS.values())
        park_town = np.array(
            [
                [town_name in tx.PARK_TOWNS for town_name in tx.TOWNS[c]]
                + [False] * (width - len(tx.TOWNS[c]))
                for c in tx.COUNTY_WEIGHTS
            ]
        )[county, town]
        m, d, a = mode[topic], dept[topic], alt[topic]
        unit = np.where(
            m == 1,
            np.where(u["route"] < 0.55, d, county_unit),
            np.where((a >= 0) & (u["route"] < 0.1), a, county_unit),
        )
        to_park = park_town & park_topic[topic] & (u["park"] < 0.3)
        return np.where(to_park, idx["广安经开区"], unit)

    def _lifecycle(self, unit: np.ndarray, repeat: np.ndarray) -> dict[str, np.ndarray]:
        """Every case's step dates as day numbers (-1: not happened by today)."""
        u, t, rules, r = self.u, self.t, self.rules, self.recv
        q = self.quality[unit]
        bad = 1.0 - q
        fl = np.floor
        age = t - r
        p_pending = np.where(age <= 2, 0.85, 0.75 * np.exp(-(age - 2) / 18.0))
        a1 = r + _pick(u["assign"], np.array([0.35, 0.35, 0.2, 0.1]))
        first = (u["pending"] >= p_pending) & (a1 <= t)
        # 退回: first sent to the wrong unit, which returns it within its window.
        window = np.minimum(self._objection_due(a1, first), t) - a1
        returned = first & (u["ret"] < 0.03) & (window >= 1)
        ret = a1 + 1 + fl(u["ret_day"] * np.maximum(window, 1)).astype(np.int64)
        a = np.where(returned, ret + fl(u["reassign"] * 3).astype(np.int64), a1)
        assigned = first & (a <= t)
        accept_due = self._add(a, rules.accept_days, rules.accept_day_kind, assigned)
        # 受理 / 不予受理
        late_acc = u["late_acc"] < 0.02 + 0.2 * bad
        on_time = np.minimum(
            fl(_tri(u["acc_delay"], 0, 4, rules.accept_days + 1)).astype(np.int64),
            rules.accept_days,
        )
        decided = np.where(
            late_acc,
            accept_due + 1 + fl(u["late_days"] * 30).astype(np.int64),
            np.minimum(a + on_time, accept_due),
        )
        decided_ok = assigned & (decided <= t)
        reject = decided_ok & (u["reject"] < 0.042)
        never = decided_ok & ~reject & (accept_due < t) & (u["never"] < 0.005 + 0.03 * bad)
        accepted = decided_ok & ~reject & ~never
        acc = np.where(accepted, decided, -1)
        # 延期: once, before the original handling deadline
        hd1 = self._add(acc, rules.handle_days, rules.handle_day_kind, accepted)
        third = max(rules.handle_days // 3, 1)
        ext_at = np.minimum(
            acc + third + fl(u["ext_at"] * max(rules.handle_days - third + 1, 1)).astype(np.int64),
            hd1,
        )
        extended = (
            accepted
            & (u["ext"] < 0.08 + 0.06 * bad)
            & (ext_at <= t)
            & (ext_at > acc)
            & (rules.max_extension_days > 0)
        )
        pick_days = _pick(u["ext_days"], _EXT_P)
        ext_days = np.where(
            u["ext_any"] < 0.3,
            1 + fl(u["ext_days"] * rules.max_extension_days).astype(np.int64),
            _EXT_DAYS[pick_days],
        )
        ext = np.where(extended, np.minimum(ext_days, rules.max_extension_days), 0)
        handle_due = self._add(acc, rules.handle_days + ext, rules.handle_day_kind, accepted)
        # 答复办结
        span = handle_due - acc
        earliest = np.where(extended, ext_at - acc + 1, 3)
        lo = np.minimum(earliest, span)
        stall = u["stall"] < 0.004 + 0.03 * bad
        late_c = ~stall & (u["late_c"] < 0.03 + 0.22 * bad)
        dur = fl(_tri(u["dur"], lo, np.minimum(span, lo + span * 0.4), span)).astype(np.int64)
        concl = np.where(late_c, handle_due + 1 + fl(u["late_cd"] * 75).astype(np.int64), acc + dur)
        concluded = accepted & ~stall & (concl <= t)
        until = np.where(concluded, concl, t)
        meet_h = accepted & (u["meet_h"] < 0.15) & (until > acc)
        meet_h_day = acc + 1 + fl(u["meet_hd"] * np.maximum(until - acc, 1)).astype(np.int64)
        # 回访评价
        ev = concl + 1 + fl(u["ev_day"] * 10).astype(np.int64)
        evaluated = concluded & (u["unreach"] >= 0.03) & (ev <= t)
        thanks = np.array([tp.type == "感谢" for tp in tx.TOPICS])[self.topic]
        p_bad = np.where(thanks, 0.0, 0.01 + 0.17 * bad + 0.12 * late_c + 0.06 * repeat)
        rating = np.where(u["rate"] < p_bad, 3, np.where(u["rate"] < p_bad + 0.16, 2, 1))

        def on(mask: np.ndarray, day: np.ndarray) -> np.ndarray:
            return np.where(mask, day, -1)

        hd_pending = self._add(accept_due, rules.handle_days, rules.handle_day_kind, assigned)
        status = np.select(
            [reject & decided_ok, evaluated, concluded, accepted, assigned],
            [5, 4, 3, 2, 1],
            default=0,
        )
        return {
            "unit": np.where(assigned, unit, -1),
            "right_unit": np.where(returned, unit, -1),
            "first_assigned": on(returned, a1),
            "returned": on(returned, ret),
            "assigned": on(assigned, a),
            "accept_due": on(assigned, accept_due),
            "accepted": acc,
            "rejected": on(reject & decided_ok, decided),
            "meet_accept": on(accepted & (u["meet_a"] < 0.3), acc),
            "extended": on(extended, ext_at),
            "ext_days": ext,
            "handle_due": np.where(accepted, handle_due, hd_pending),
            "concluded": on(concluded, concl),
            "meet_handle": on(meet_h, meet_h_day),
            "meet_reply": on(concluded & (u["meet_r"] < 0.25), concl),
            "evaluated": on(evaluated, ev),
            "rating": np.where(evaluated, rating, 0),
            "status": status,
        }

    def _repeats(self, life: dict[str, np.ndarray]) -> np.ndarray:
        """Pick ~6% repeat messages and the earlier case each repeats (-1: none).

        The original is a non-repeat case received 7–180 days before, preferably one the
        petitioner was not satisfied with; the repeat takes its topic, place and unit.
        """
        u, r, n = self.u, self.recv, self.n
        cand = u["repeat"] < 0.065
        lo = np.searchsorted(r, r - 180, side="left")
        hi = np.searchsorted(r, r - 7, side="right")
        ok = cand & (hi > lo)
        thanks = np.array([tp.type == "感谢" for tp in tx.TOPICS])
        origin = np.full(n, -1, dtype=np.int64)
        fallback = np.full(n, -1, dtype=np.int64)
        for k in range(3):
            j = np.minimum(lo + (u[f"rep{k}"] * (hi - lo)).astype(np.int64), np.maximum(hi - 1, 0))
            fit = ok & ~cand[j] & ~thanks[self.topic[j]]
            good = fit & (life["rating"][j] != 1)
            origin = np.where((origin < 0) & good, j, origin)
            fallback = np.where((fallback < 0) & fit, j, fallback)
        return np.where(origin >= 0, origin, fallback)

    # -- template slots ------------------------------------------------------------------

    def slot(self, key: str, s: _Slots) -> str:
        """Draw the value of template slot ``key`` for the message whose slots are ``s``."""
        rng = self.rng
        rnd = rng.random

        def one(seq: Any) -> Any:
            return seq[int(rnd() * len(seq))]

        def between(a: int, b: int) -> int:
            return a + int(rnd() * (b - a + 1))

        r = s.received
        if key == "community":
            return one(tx.COMMUNITY_PREFIX) + one(tx.COMMUNITY_SUFFIX) + "小区"
        if key in ("road", "road2"):
            other = s.get("road2" if key == "road" else "road")
            return one([x for x in tx.ROADS if x != other])
        if key == "town2":
            return one([x for x in tx.TOWNS[s["region"]] if x != s["town"]])
        if key == "village":
            return one(tx.VILLAGE_PREFIX) + "村"
        if key == "group":
            return f"{between(1, 12)}组"
        if key == "building":
            return str(between(1, 18))
        if key in tx.CO_KINDS:
            return "广安" + one(tx.CO_WORDS) + one(tx.CO_KINDS[key])
        if key == "school":
            town = s["town"]
            if rnd() < 0.4:  # 官盛镇中心小学, 浓洄小学
                return (
                    town + "中心小学" if town.endswith("镇") else town.removesuffix("街道") + "小学"
                )
            return s["region"] + one(tx.SCHOOL_SUFFIX)
        if key in _SLOT_TEMPLATES:
            return one(_SLOT_TEMPLATES[key]).format_map(s)
        if key in _SLOT_WORDS:
            return one(_SLOT_WORDS[key])
        if key == "bus":
            return f"{between(1, 36)}路"
        if key == "month":
            if rnd() < 0.7:
                return f"今年{between(1, r.month)}月"
            return f"去年{between(1, 12)}月"
        if key == "year":
            return str(r.year - between(1, 6))
        if key == "year2":
            return str(min(int(s["year"]) + between(1, 2), r.year))
        if key == "year3":
            return str(r.year - between(0, 1))
        if key in _SLOT_RANGES:
            return str(between(*_SLOT_RANGES[key]))
        if key == "mu":
            return f"{between(3, 16) / 2:g}"
        if key == "fee":
            return one(("0.8", "1.0", "1.2", "1.5"))
        if key == "fee2":
            return f"{float(s['fee']) + one((0.3, 0.5, 0.8, 1.0)):.1f}"
        if key == "fee3":
            return str(between(8, 40) * 10)
        if key == "money":
            return str(between(3, 99) * 100 if rnd() < 0.5 else between(10, 300) * 1000)
        if key == "amount":
            return f"{between(20, 3000) / 10:g}万"
        if key == "addressee":
            return "领导"
        raise KeyError(key)

    # -- one message ---------------------------------------------------------------------

    def _petitioner(self, channel: str, s: _Slots) -> str:
        rnd = self.rng.random
        x = rnd()
        if channel in ("来信", "来访") or x < 0.55:
            return self._person_name()
        if x < 0.8:
            return f"网友{int(rnd() * 0x1000000):06x}"
        if x < 0.9:
            word = tx.NICK_WORDS[int(rnd() * len(tx.NICK_WORDS))]
            return word + (str(1 + int(rnd() * 999)) if rnd() < 0.5 else "")
        return tx.ANON_NAMES[int(rnd() * len(tx.ANON_NAMES))].format_map(s)

    def _phone(self) -> str:
        rnd = self.rng.random
        x = rnd()
        if x < 0.07:
            return ""
        mobile = _MOBILE_PREFIXES[int(rnd() * len(_MOBILE_PREFIXES))] + f"{int(rnd() * 1e9):09d}"
        if x < 0.80:
            return mobile
        landline = f"{2 + int(rnd() * 7)}{int(rnd() * 1e6):06d}"
        if x < 0.91:
            return "0826-" + landline
        if x < 0.96:
            return "+86 " + mobile
        if x < 0.98:
            return "+86-" + mobile
        return "(0826)" + landline

    def _id_number(self, county: str, year: int) -> str:
        rnd = self.rng.random
        birth = dt.date(1950 + int(rnd() * (year - 18 - 1950)), 1, 1) + dt.timedelta(
            days=int(rnd() * 365)
        )
        body = f"{tx.AREA_CODES[county]}{birth:%Y%m%d}{int(rnd() * 1000):03d}"
        return body + _id_check(body)

    def _channel_and_addressee(self, county: str) -> tuple[str, str]:
        rnd = self.rng.random
        x = rnd() * _CHANNEL_TOTAL
        channel = _CHANNELS[bisect.bisect_right(_CHANNEL_CUM, x)]
        if channel == "人民网领导留言板":
            who = _ADDRESSEES[bisect.bisect_right(_ADDRESSEE_CUM, rnd() * _ADDRESSEE_TOTAL)]
            if who == "county_secretary":
                return channel, tx.COUNTY_LEADERS[county][0]
            if who == "county_head":
                return channel, tx.COUNTY_LEADERS[county][1]
            return channel, who
        if channel == "12345热线":
            return channel, "市长"
        if channel == "来信":
            return channel, ("市委书记", "市长", "市信访局")[int(rnd() * 3)]
        return channel, "市信访局" if rnd() < 0.7 else ""

    def _source_id(self, channel: str, day: int) -> str:
        seq = self._source_seq
        if channel == "人民网领导留言板":
            seq[channel] += 1 + int(self.rng.random() * 40)
            return str(seq[channel])
        if channel == "12345热线":
            seq[channel] += 1
            return self.iso(day).replace("-", "") + f"{seq[channel]:06d}"
        if channel == "网上信访":
            seq[channel] += 1
            return "5116" + self.iso(day).replace("-", "") + f"{seq[channel]:06d}"
        return ""

    def _content(self, variant: tx.Variant, topic: tx.Topic, s: _Slots, channel: str) -> str:
        rnd = self.rng.random
        parts: list[str] = []
        if channel == "12345热线":
            parts.append("来电人反映：")
        elif channel == "来访":
            parts.append("来访人反映：")
        elif channel in ("人民网领导留言板", "来信") or rnd() < 0.5:
            parts.append(tx.OPENINGS[int(rnd() * len(tx.OPENINGS))])
        intros = tx.INTROS[variant.who]
        parts.append(intros[int(rnd() * len(intros))])
        body = variant.body
        parts.append(body[0])
        extra = [b for b in body[1:] if rnd() < 0.55][:2]
        parts.extend(extra)
        if rnd() < 0.012:
            parts.append(self._long_part(variant, s))
        asks = variant.asks or topic.asks
        parts.append(asks[int(rnd() * len(asks))])
        parts.append(tx.CLOSINGS[int(rnd() * len(tx.CLOSINGS))])
        return "".join(parts).format_map(s)

    def _long_part(self, variant: tx.Variant, s: _Slots) -> str:
        """The detailed part of a long message (2,000–6,000 characters): a dated account,
        the difficulties, the demands and the co-signers, as long petitions are written."""
        rng = self.rng
        rnd = rng.random
        target = rng.randint(2000, 6000)
        r: dt.date = s.received
        k_events = rng.randint(8, 18)
        days = sorted(rng.sample(range(20, 720), k_events), reverse=True)
        events = []
        for back in days:
            d = r - dt.timedelta(days=back)
            when = {"d": f"{d.year}年{d.month}月{d.day}日", "k": rng.randint(3, 40)}
            template = tx.LONG_EVENTS[int(rnd() * len(tx.LONG_EVENTS))]
            events.append(template.format_map({**s, **when}))
        hard = rng.sample(tx.NARRATIVE, rng.randint(4, 8))
        demands = rng.sample(tx.LONG_DEMANDS, rng.randint(3, 5))
        out = [
            "具体情况如下：一、反映经过。",
            "".join(events),
            "二、存在的困难。",
            "".join(hard).format_map(s),
            "三、我们的诉求。",
            "".join(f"{j}.{d}" for j, d in enumerate(demands, 1)),
        ]
        size = sum(len(x) for x in out)
        signers = []
        template = tx.LONG_SIGNERS_RURAL if variant.who == "rural" else tx.LONG_SIGNERS_URBAN
        while size < target:
            one = template.format(
                name=self._person_name(),
                community=s["community"] if variant.who != "rural" else "",
                building=rng.randint(1, 18),
                unit_no=rng.randint(1, 4),
                village=s["village"] if variant.who == "rural" else "",
                group=f"{rng.randint(1, 12)}组",
            )
            signers.append(one)
            size += len(one) + 1
        if signers:
            out.append(f"四、联名群众（共{len(signers)}人）：" + "、".join(signers) + "。")
        return "".join(out)

    def _reply(
        self, topic: tx.Topic, variant: tx.Variant, title: str, s: _Slots, unit: str, lead: str
    ) -> str:
        """The unit's reply (答复意见书): what it found and did, matching the message."""
        rnd = self.rng.random
        u = self.units[unit]
        done = tx.REPLIES.get(variant.titles[0]) or ("已责成相关单位依法依规处理。",)
        measure = done[int(rnd() * len(done))]
        if topic.type == "感谢":
            return (
                f"您好！您的来信收悉，感谢您对我们工作的肯定。{measure}"
                "我们将再接再厉，为群众提供更好的服务。"
            )
        finding = tx.REPLY_FINDINGS[int(rnd() * len(tx.REPLY_FINDINGS))].format_map(s)
        return (
            f"您好！您反映的“{title}”问题收悉。{u.short}高度重视，由{lead}牵头，"
            f"组织相关人员开展调查核实。{finding}{measure}"
            f"{tx.REPLY_CLOSING.format(phone=u.phone)}"
        )

    def _repeat_text(self, title: str, content: str, received: str, channel: str) -> tuple:
        rnd = self.rng.random
        variants = (f"再次反映：{title}", f"{title}（再次反映）", f"{title}的问题至今未解决", title)
        new_title = variants[int(rnd() * len(variants))][:200]
        earlier = content if len(content) <= 600 else content[:300] + "……"
        why = _REPEAT_WHY[int(rnd() * len(_REPEAT_WHY))]
        y, m, d = received.split("-")
        new_content = (
            f"我于{y}年{m}月{d}日通过{channel}反映过“{title}”的问题，{why}"
            f"原反映内容如下：{earlier}恳请领导再次关注，督促有关部门切实解决！"
        )
        return new_title, new_content

    # -- the text loop ---------------------------------------------------------------------

    def run(self, progress: Callable[[int, int], None] | None = None) -> dict[str, list[dict]]:
        """All sheets' rows."""
        self._draw()
        unit = self._route(self.topic, self.county, self.town)
        no_repeat = np.zeros(self.n, dtype=bool)
        life = self._lifecycle(unit, no_repeat)
        origin = self._repeats(life)
        rep = origin >= 0
        src = np.where(rep, origin, np.arange(self.n))
        self.topic, self.county, self.town = self.topic[src], self.county[src], self.town[src]
        rerouted = self._route(self.topic, self.county, self.town)
        same = rep & (life["unit"][src] >= 0) & (self.u["same_unit"] < 0.8)
        unit = np.where(same, life["unit"][src], np.where(rep, rerouted, unit))
        life = self._lifecycle(unit, rep)
        self.life = life
        return self._rows(origin, progress)

    def _rows(
        self, origin: np.ndarray, progress: Callable[[int, int], None] | None
    ) -> dict[str, list[dict]]:
        n, rules = self.n, self.rules
        rnd = self.rng.random
        life = self.life
        # Plain lists and local names: this loop runs once per case.
        (
            l_unit,
            l_first,
            l_right,
            l_ret,
            l_assigned,
            l_accept_due,
            l_acc,
            l_rej,
            l_meet_a,
            l_ext_at,
            l_ext_days,
            l_handle_due,
            l_concl,
            l_meet_h,
            l_meet_r,
            l_ev,
            l_rating,
            l_status,
        ) = (
            life[k].tolist()
            for k in (
                "unit",
                "first_assigned",
                "right_unit",
                "returned",
                "assigned",
                "accept_due",
                "accepted",
                "rejected",
                "meet_accept",
                "extended",
                "ext_days",
                "handle_due",
                "concluded",
                "meet_handle",
                "meet_reply",
                "evaluated",
                "rating",
                "status",
            )
        )
        recv, topics, counties, towns = (
            self.recv.tolist(),
            self.topic.tolist(),
            self.county.tolist(),
            self.town.tolist(),
        )
        origin_l = origin.tolist()
        originals = set(origin[origin >= 0].tolist())
        ISO, B = self._iso, self._iso_base  # day number -> 'YYYY-MM-DD' (any day drawn here)
        times = _TIMES
        county_names = list(tx.COUNTY_WEIGHTS)
        units = self.unit_list
        self._source_seq = {"人民网领导留言板": 18_600_000, "12345热线": 0, "网上信访": 0}
        year_seq: dict[int, int] = {}
        statuses = workflow.STATUSES
        records: list[tuple] = []
        texts: dict[int, tuple] = {}  # originals of repeats: what the repeat reuses
        clerks = ("clerk", "clerk", "clerk2")
        evaluators = ("clerk", "clerk2", "supervisor")
        hist_append = self.history.append
        o_assign, o_reassign, o_object = _ORDER["assign"], _ORDER["reassign"], _ORDER["object"]
        o_accept, o_reject, o_meet = _ORDER["accept"], _ORDER["reject"], _ORDER["meet"]
        o_extend, o_reply, o_evaluate = _ORDER["extend"], _ORDER["reply"], _ORDER["evaluate"]
        for i in range(n):
            r = recv[i]
            received = ISO[r - B]
            year = int(received[:4])
            k = year_seq.get(year, 0) + 1
            year_seq[year] = k
            case_id = f"{self.prefix}{year}-{k:06d}"
            county = county_names[counties[i]]
            town = tx.TOWNS[county][towns[i]]
            topic = tx.TOPICS[topics[i]]
            channel, addressed = self._channel_and_addressee(county)
            o = origin_l[i]
            if o >= 0:
                (
                    variant,
                    s,
                    o_case_id,
                    o_received,
                    o_channel,
                    petitioner,
                    phone,
                    id_no,
                    o_title,
                    o_content,
                ) = texts[o]
                title, content = self._repeat_text(o_title, o_content, o_received, o_channel)
                repeat_of, is_first = o_case_id, "FALSE"
            else:
                variant = topic.variants[int(rnd() * len(topic.variants))]
                s = _Slots(self, county, town, dt.date.fromordinal(r))
                s["addressee"] = _greeting(addressed)
                petitioner = self._petitioner(channel, s)
                phone = self._phone()
                p_id = 0.5 if channel in ("来信", "来访", "网上信访") else 0.05
                id_no = self._id_number(county, year) if rnd() < p_id else ""
                title = variant.titles[int(rnd() * len(variant.titles))].format_map(s)
                content = self._content(variant, topic, s, channel)
                repeat_of, is_first = "", "TRUE" if rnd() < 0.95 else "FALSE"
            if i in originals:
                texts[i] = (
                    variant,
                    s,
                    case_id,
                    received,
                    channel,
                    petitioner,
                    phone,
                    id_no,
                    title,
                    content,
                )

            clerk = clerks[int(rnd() * 3)]
            events: list[tuple] = [(r, 0, clerk, "intake", (("", "", title),))]
            # the lifecycle, as drawn
            u_k = l_unit[i]
            unit = units[u_k].name if u_k >= 0 else ""
            lead = reject_reason = ext_reason = reply = return_reason = ""
            fa = l_first[i]
            if fa >= 0:
                right = units[l_right[i]].name
                wrong = self._wrong_unit(topic, right, county)
                lead0 = self._lead(wrong)
                ret = l_ret[i]
                to_county = self.units[right].kind in ("区市县", "园区")  # 属地
                reasons = tx.RETURN_TO_COUNTY if to_county else tx.RETURN_TO_DEPT
                return_reason = reasons[int(rnd() * len(reasons))].format(right=right)
                events.append(_assign_event(fa, o_assign, clerk, wrong, lead0, ISO[fa - B]))
                events.append(
                    (
                        ret,
                        o_object,
                        f"handler_{self.units[wrong].code}",
                        "object",
                        (
                            ("unit", wrong, ""),
                            ("lead_official", lead0, ""),
                            ("assigned_at", ISO[fa - B], ""),
                            ("returned_at", "", ISO[ret - B]),
                            ("return_reason", "", return_reason),
                        ),
                    )
                )
            a = l_assigned[i]
            if a >= 0:
                lead = self._lead(unit)
                order = o_reassign if fa >= 0 else o_assign
                events.append(_assign_event(a, order, clerk, unit, lead, ISO[a - B]))
                handler = f"handler_{units[u_k].code}"
                rej = l_rej[i]
                acc = l_acc[i]
                if rej >= 0:
                    reject_reason = tx.REJECT_REASONS[int(rnd() * len(tx.REJECT_REASONS))]
                    events.append(
                        (
                            rej,
                            o_reject,
                            handler,
                            "reject",
                            (
                                ("rejected_at", "", ISO[rej - B]),
                                ("reject_reason", "", reject_reason),
                            ),
                        )
                    )
                if acc >= 0:
                    if l_meet_a[i] >= 0:
                        ch = (("accepted_at", "", ISO[acc - B]), ("meet_accept", "", ISO[acc - B]))
                    else:
                        ch = (("accepted_at", "", ISO[acc - B]),)
                    events.append((acc, o_accept, handler, "accept", ch))
                    ext_at = l_ext_at[i]
                    if ext_at >= 0:
                        ext_reason = tx.EXTENSION_REASONS[int(rnd() * len(tx.EXTENSION_REASONS))]
                        old_due = workflow.add_days(
                            dt.date.fromordinal(acc), rules.handle_days, rules.handle_day_kind
                        ).isoformat()
                        events.append(
                            (
                                ext_at,
                                o_extend,
                                handler,
                                "extend",
                                (
                                    ("extension_days", "0", str(l_ext_days[i])),
                                    ("extended_at", "", ISO[ext_at - B]),
                                    ("extension_reason", "", ext_reason),
                                    ("handle_due", old_due, ISO[l_handle_due[i] - B]),
                                ),
                            )
                        )
                    mh = l_meet_h[i]
                    if mh >= 0:
                        events.append(
                            (mh, o_meet, handler, "meet", (("meet_handle", "", ISO[mh - B]),))
                        )
                    concl = l_concl[i]
                    if concl >= 0:
                        reply = self._reply(topic, variant, title, s, unit, lead)
                        if l_meet_r[i] >= 0:
                            ch = (
                                ("concluded_at", "", ISO[concl - B]),
                                ("reply", "", reply),
                                ("meet_reply", "", ISO[concl - B]),
                            )
                        else:
                            ch = (("concluded_at", "", ISO[concl - B]), ("reply", "", reply))
                        events.append((concl, o_reply, handler, "reply", ch))
                        ev = l_ev[i]
                        if ev >= 0:
                            events.append(
                                (
                                    ev,
                                    o_evaluate,
                                    evaluators[int(rnd() * 3)],
                                    "evaluate",
                                    (
                                        ("evaluation", "", EVALUATIONS[l_rating[i]]),
                                        ("evaluated_at", "", ISO[ev - B]),
                                    ),
                                )
                            )
            instructed = self._instruct(events, case_id, r, addressed, unit)
            if a >= 0:
                self._supervise(
                    events,
                    case_id,
                    unit,
                    town,
                    instructed,
                    (a, l_accept_due[i], l_acc[i], l_rej[i], l_handle_due[i], l_concl[i]),
                    (l_ev[i], l_rating[i]),
                )
            # history rows, step by step; the case's bookkeeping is its last step
            if len(events) > 1:
                events.sort(key=_event_key)
            ts = user = ""
            for day, order, user, action, changes in events:
                ts = ISO[day - B] + times[(order * 35 + int(rnd() * 31)) * 60 + int(rnd() * 60)]
                for fld, old, new in changes:
                    hist_append(
                        {
                            "timestamp": ts,
                            "user": user,
                            "case_id": case_id,
                            "action": action,
                            "field": fld,
                            "old": old,
                            "new": new,
                        }
                    )
            records.append(
                (
                    case_id,
                    self._source_id(channel, r),
                    channel,
                    addressed,
                    petitioner,
                    phone,
                    id_no,
                    county,
                    town,
                    topic.domain,
                    topic.type,
                    title,
                    content,
                    is_first,
                    "TRUE" if topic.confidential else "FALSE",
                    repeat_of,
                    statuses[l_status[i]],
                    unit,
                    lead,
                    reject_reason,
                    ext_reason,
                    reply,
                    EVALUATIONS[l_rating[i]],
                    return_reason,
                    ts,
                    user,
                )
            )
            if progress is not None and (i + 1) % 5000 == 0:
                progress(i + 1, n)
        columns = zip(*records, strict=True) if records else ((),) * len(_TEXT_COLUMNS)
        cols = {k: list(c) for k, c in zip(_TEXT_COLUMNS, columns, strict=True)}
        return {
            "units": self.unit_rows(),
            "users": self.user_rows(),
            "cases": self._case_rows(cols),
            "instructions": _numbered(self.instr_rows, "instruction_id", "PS"),
            "supervisions": _numbered(self.sup_rows, "supervision_id", "DB"),
            "history": self.history,
        }

    def _case_rows(self, cols: dict[str, list[str]]) -> list[dict[str, str]]:
        """Assemble the case rows column-wise (dates from the day-number arrays)."""
        L, iso = self.life, self.iso
        dates = {
            "received_at": self.recv,
            "assigned_at": L["assigned"],
            "accept_due": L["accept_due"],
            "accepted_at": L["accepted"],
            "rejected_at": L["rejected"],
            "handle_due": L["handle_due"],
            "extended_at": L["extended"],
            "concluded_at": L["concluded"],
            "meet_accept": L["meet_accept"],
            "meet_handle": L["meet_handle"],
            "meet_reply": L["meet_reply"],
            "evaluated_at": L["evaluated"],
            "returned_at": L["returned"],
        }
        columns: dict[str, list[str]] = dict(cols)
        for key, arr in dates.items():
            columns[key] = [iso(x) for x in arr.tolist()]
        columns["extension_days"] = [str(x) for x in L["ext_days"].tolist()]
        columns["version"] = ["1"] * self.n
        sheet = self.schema["cases"]
        keys = [k for k in sheet.keys if k in columns]
        missing = {k: v for k, v in sheet.empty_row().items() if k not in columns}
        table = zip(*(columns[k] for k in keys), strict=True)
        rows = [dict(zip(keys, vals, strict=True)) for vals in table]
        if missing:
            for row in rows:
                row.update(missing)
        return rows

    # -- pieces of the loop --------------------------------------------------------------

    def _lead(self, unit: str) -> str:
        pool = self.leads[unit]
        return pool[int(self.rng.random() * len(pool))]

    def _wrong_unit(self, topic: tx.Topic, right: str, county: str) -> str:
        """A unit a case was first sent to by mistake (it returns the case: 退回)."""
        if self.units[right].kind == "区市县":
            wrong = tx.DOMAIN_UNIT[topic.domain] or "市住房和城乡建设局"
            return wrong if wrong != right else "市民政局"
        return county

    def _instruct(
        self, events: list[tuple], case_id: str, r: int, addressed: str, unit: str
    ) -> bool:
        """Leader instructions (批示) on ~5% of cases, more on those written to top leaders."""
        rnd = self.rng.random
        p = 0.06 if addressed in ("市委书记", "市长") else 0.1 if addressed[:1] == "省" else 0.03
        if rnd() >= p:
            return False
        day = min(r + int(rnd() * 5), self.t)
        leader = _LEADERS[bisect.bisect_right(_LEADER_CUM, rnd() * _LEADER_TOTAL)]
        if unit:
            short = self.units[unit].short
            text = tx.INSTRUCTION_TEXTS[int(rnd() * len(tx.INSTRUCTION_TEXTS))].format(unit=short)
        else:
            text = tx.INSTRUCTION_PENDING_TEXTS[int(rnd() * len(tx.INSTRUCTION_PENDING_TEXTS))]
        self._instruction(events, case_id, leader, day, text)
        if unit and rnd() < 0.2:
            other = _LEADERS[bisect.bisect_right(_LEADER_CUM, rnd() * _LEADER_TOTAL)]
            if other != leader:
                day2 = min(day + 1 + int(rnd() * 6), self.t)
                text2 = tx.INSTRUCTION_FOLLOW_UP.format(
                    leader=leader.split(" ")[-1], unit=self.units[unit].short
                )
                self._instruction(events, case_id, other, day2, text2)
        return True

    def _instruction(
        self, events: list[tuple], case_id: str, leader: str, day: int, text: str
    ) -> None:
        rnd = self.rng.random
        recorder = "leader" if rnd() < 0.2 else ("clerk", "clerk2")[int(rnd() * 2)]
        self.instr_rows.append(
            {
                "instruction_id": "",
                "case_id": case_id,
                "leader": leader,
                "date": self.iso(day),
                "text": text,
                "recorded_by": recorder,
            }
        )
        events.append((day, _ORDER["instruct"], recorder, "instruct", (("", "", text),)))

    def _supervise(
        self,
        events: list[tuple],
        case_id: str,
        unit: str,
        town: str,
        instructed: bool,
        steps: tuple[int, int, int, int, int, int],
        evaluation: tuple[int, int],
    ) -> None:
        """Supervision records on overdue cases, 批示件 and 不满意 cases; escalations.

        ``steps`` are the day numbers (-1: none) of assignment, acceptance due, acceptance,
        rejection, handling due and conclusion; ``evaluation`` the evaluation day and rating.
        """
        rnd = self.rng.random
        t = self.t
        short = self.units[unit].short
        a, accept_due, acc, rej, handle_due, concl = steps
        decided = acc if acc >= 0 else rej

        def sup(day: int, kind: str, note: str, due: int, outcome: str, action: str) -> None:
            self._sup(events, case_id, day, kind, note, due, outcome, action)

        if instructed and rnd() < 0.5:
            day = a + 1 + int(rnd() * 5)
            if day <= t:
                note = tx.SUPERVISION_INSTRUCTED.format(unit=short, due=self.iso(day + 10))
                sup(day, "函督", note, day + 10, "", "supervise")
        # overdue acceptance
        end = decided if decided >= 0 else t
        over = end - accept_due
        if over >= 1 and rnd() < 0.6:
            day = accept_due + 1 + int(rnd() * min(3, over))
            self._overdue(
                events, case_id, day, "电话督办", "accept", decided, rej >= 0, short, town
            )
            if over >= 14 and rnd() < 0.5:
                day = accept_due + 7 + int(rnd() * 8)
                self._overdue(
                    events, case_id, day, "函督", "accept", decided, rej >= 0, short, town
                )
        if acc < 0:
            return
        end = concl if concl >= 0 else t
        over = end - handle_due
        if over >= 1 and rnd() < 0.65:
            day = handle_due + 1 + int(rnd() * min(3, over))
            self._overdue(events, case_id, day, "电话督办", "handle", concl, False, short, town)
            if over >= 15 and rnd() < 0.6:
                day = handle_due + 8 + int(rnd() * 8)
                self._overdue(events, case_id, day, "函督", "handle", concl, False, short, town)
            if over >= 30 and rnd() < 0.5:
                day = handle_due + 18 + int(rnd() * 13)
                kind = "挂牌督办" if rnd() < 0.5 else "实地督办"
                self._overdue(events, case_id, day, kind, "handle", concl, False, short, town)
            if over >= 40 and rnd() < 0.35:
                day = handle_due + 31 + int(rnd() * 10)
                self._overdue(events, case_id, day, "约谈", "handle", concl, False, short, town)
            if over >= 45 and rnd() < 0.3:
                day = handle_due + 45 + int(rnd() * (min(over, 75) - 44))
                reasons = tx.ESCALATION_REASONS
                reason = reasons[int(rnd() * len(reasons))].format(days=day - handle_due)
                sup(day, ESCALATION_KIND, reason, -1, "", "escalate")
        ev, rating = evaluation
        if rating == 3 and rnd() < 0.4:
            day = ev + 1 + int(rnd() * 7)
            if day <= t:
                kind = "电话督办" if rnd() < 0.5 else "实地督办"
                note = tx.SUPERVISION_UNSATISFIED.format(unit=short)
                sup(day, kind, note, day + 15, "", "supervise")

    def _overdue(
        self,
        events: list[tuple],
        case_id: str,
        day: int,
        kind: str,
        stage: str,
        resolved: int,
        rejected: bool,
        short: str,
        town: str,
    ) -> None:
        rnd = self.rng.random
        due = day + (3, 5, 7, 10)[int(rnd() * 4)]
        note = tx.SUPERVISION_NOTES[kind].format(
            unit=short, what=tx.SUPERVISION_WHAT[stage], due=self.iso(due), town=town
        )
        if resolved >= day:
            if rejected:
                outcome = f"{short}已于{self.iso(resolved)}作出不予受理告知"
            else:
                template = tx.OUTCOME_ACCEPTED if stage == "accept" else tx.OUTCOME_CONCLUDED
                outcome = template.format(unit=short, date=self.iso(resolved))
        else:
            outcome = tx.OUTCOME_PENDING[int(rnd() * len(tx.OUTCOME_PENDING))]
        self._sup(events, case_id, day, kind, note, due, outcome, "supervise")

    def _sup(
        self,
        events: list[tuple],
        case_id: str,
        day: int,
        kind: str,
        note: str,
        due: int,
        outcome: str,
        action: str,
    ) -> None:
        rnd = self.rng.random
        if action == "escalate" or rnd() < 0.8:
            user = "supervisor" if rnd() < 0.65 else "supervisor2"
        else:
            user = "clerk"
        self.sup_rows.append(
            {
                "supervision_id": "",
                "case_id": case_id,
                "date": self.iso(day),
                "kind": kind,
                "by": self.user_names[user],
                "note": note,
                "due": self.iso(due),
                "outcome": outcome,
            }
        )
        events.append((day, _ORDER[action], user, action, (("kind", "", kind),)))


# --- tables the generator uses ------------------------------------------------------------------

# Uniform draws of the lifecycle, one array per name (drawn in this order: keep it stable).
_UNIFORMS = (
    "pending",
    "assign",
    "ret",
    "ret_day",
    "reassign",
    "late_acc",
    "acc_delay",
    "late_days",
    "reject",
    "never",
    "meet_a",
    "ext",
    "ext_at",
    "ext_any",
    "ext_days",
    "stall",
    "late_c",
    "late_cd",
    "dur",
    "meet_h",
    "meet_hd",
    "meet_r",
    "ev_day",
    "unreach",
    "rate",
    "route",
    "park",
    "repeat",
    "rep0",
    "rep1",
    "rep2",
    "same_unit",
)
_EXT_CHOICES = ((10, 2), (15, 4), (20, 2), (30, 5), (7, 1), (5, 1), (25, 1), (12, 1))
_EXT_DAYS = np.array([d for d, _ in _EXT_CHOICES])
_EXT_P = np.array([w for _, w in _EXT_CHOICES], dtype=float) / sum(w for _, w in _EXT_CHOICES)
_TEXT_COLUMNS = (
    "case_id",
    "source_id",
    "channel",
    "addressed_to",
    "petitioner",
    "phone",
    "id_number",
    "region",
    "town",
    "domain",
    "type",
    "title",
    "content",
    "is_first",
    "confidential",
    "repeat_of",
    "status",
    "unit",
    "lead_official",
    "reject_reason",
    "extension_reason",
    "reply",
    "evaluation",
    "return_reason",
    "updated_at",
    "updated_by",
)
_SLOT_TEMPLATES = {"hospital": tx.HOSPITALS, "project": tx.PROJECTS}
_SLOT_WORDS = {
    "hdept": tx.HOSPITAL_DEPTS,
    "crop": tx.CROPS,
    "river": tx.RIVERS,
    "scenic": tx.SCENIC,
    "machine": tx.MACHINES,
}
_SLOT_RANGES = {
    "years": (2, 8),
    "months": (2, 11),
    "days": (3, 20),
    "n": (8, 160),
    "n2": (5, 15),
    "n3": (2, 6),
    "age": (68, 93),
}
_MOBILE_PREFIXES = ("13", "13", "15", "15", "18", "18", "17", "19", "16")
_REPEAT_WHY = (
    "至今没有得到解决。",
    "单位答复说正在处理，但几个月过去了没有任何变化。",
    "对之前的答复我不满意，问题并没有真正解决。",
    "到现在还没有任何人联系我。",
)


def _cumulative(pairs: Any) -> tuple[list[Any], list[float], float]:
    items, cum, acc = [], [], 0.0
    for item, w in pairs:
        acc += float(w)
        items.append(item)
        cum.append(acc)
    return items, cum[:-1], acc


_CHANNELS, _CHANNEL_CUM, _CHANNEL_TOTAL = _cumulative(tx.CHANNEL_WEIGHTS)
_ADDRESSEES, _ADDRESSEE_CUM, _ADDRESSEE_TOTAL = _cumulative(tx.ADDRESSEES)
_LEADERS, _LEADER_CUM, _LEADER_TOTAL = _cumulative(tx.INSTRUCTING_LEADERS)


# Times of day of history steps: 08:30 + 35 min per step of the day (see _ORDER) + up to 30 min.
_TIMES = [
    f"T{(510 + m) // 60:02d}:{(510 + m) % 60:02d}:{sec:02d}{TZ_SUFFIX}"
    for m in range(35 * max(_ORDER.values()) + 31)
    for sec in range(60)
]


def _event_key(e: tuple) -> tuple[int, int]:
    return e[0], e[1]


def _assign_event(day: int, order: int, clerk: str, unit: str, lead: str, day_iso: str) -> tuple:
    return (
        day,
        order,
        clerk,
        "assign",
        (("unit", "", unit), ("lead_official", "", lead), ("assigned_at", "", day_iso)),
    )


def _numbered(rows: list[dict[str, str]], key: str, prefix: str) -> list[dict[str, str]]:
    """Sort append-only rows by date (as the app would have written them) and number them."""
    rows.sort(key=lambda x: x["date"])
    for k, row in enumerate(rows, 1):
        row[key] = f"{prefix}{k:06d}"
    return rows


# --- public API --------------------------------------------------------------------------------


def generate(
    n: int,
    seed: int = 0,
    today: dt.date | None = None,
    rules: workflow.Rules | None = None,
    *,
    prefix: str = "GA",
    password_hash: str | None = None,
    schema: Schema | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, list[dict[str, str]]]:
    """Rows of canonical text for every demo sheet, by sheet name: ``units``, ``users``,
    ``cases``, ``instructions``, ``supervisions`` and ``history``.

    ``n`` cases received over the 365 days up to ``today`` (default: the computer's date),
    deadlines per ``rules`` (default: SPEC §4), case ids ``{prefix}{year}-{seq:06d}`` per year
    in order of receipt. The same ``(n, seed, today, rules)`` give identical rows (the users'
    password hash is the per-process :func:`demo_password_hash` unless ``password_hash`` is
    given). ``progress(done, n)`` is called every 5,000 cases.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    gen = _Generator(
        int(n),
        int(seed),
        today or dt.date.today(),
        rules or workflow.Rules(),
        prefix,
        password_hash if password_hash is not None else demo_password_hash(),
        schema or default_schema(),
    )
    return gen.run(progress)


def seed_demo(
    reg: Register,
    user: User,
    *,
    cases: int = 3000,
    seed: int = 0,
    today: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunks: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Fill a register that has no cases with ``cases`` invented cases and their units, users,
    instructions, supervisions and history; returns the number of rows written per sheet.

    Refused with a :class:`~lib.i18n.DomainError` unless ``user`` may ``seed``, and when the
    register already holds cases, or history of cases (an interrupted seed: the cases are
    written last); nothing is ever deleted, the caller decides. Units and users
    that already exist (same name / username) are kept as they are and not written again.
    ``today`` defaults to the register's today; deadlines follow the register's settings.
    ``progress(done, total)`` counts rows written over all sheets, after each transaction.
    """
    require(user, "seed")
    data = reg.load(force=True)
    if len(data.cases):
        raise DomainError("err.seed_not_empty", count=len(data.cases))
    history = reg.store.read(["history"])["history"]
    if len(history) and "case_id" in history and (history["case_id"].fillna("") != "").any():
        raise DomainError("err.seed_partial")  # an interrupted seed left history behind
    today = today or reg.today()
    prefix = data.settings.get("case_id_prefix") or "GA"
    rows = generate(cases, seed, today, data.rules, prefix=prefix, schema=reg.schema)
    have_units = set(data.units["name"]) if len(data.units) else set()
    rows["units"] = [r for r in rows["units"] if r["name"] not in have_units]
    have_users = set(data.users["username"]) if len(data.users) else set()
    rows["users"] = [r for r in rows["users"] if r["username"] not in have_users]
    _renumber_after_existing(data.instructions, rows["instructions"], "instruction_id", "PS")
    _renumber_after_existing(data.supervisions, rows["supervisions"], "supervision_id", "DB")

    sizes = {**CHUNKS, **(chunks or {})}
    total = sum(len(rows[s]) for s in SHEETS)
    done = 0
    counts: dict[str, int] = {}
    if progress:
        progress(0, total)
    for sheet in WRITE_ORDER:
        part = rows[sheet]
        counts[sheet] = len(part)
        if not part:
            continue

        def report(k: int, _n: int, offset: int = done) -> None:
            if progress:
                progress(offset + k, total)

        reg.bulk_append(
            user,
            sheet,
            part,
            action="seed",
            note="演示数据",
            chunk=sizes.get(sheet, 20_000),
            progress=report,
            history=sheet in ("units", "users"),
        )
        done += len(part)
    return {s: counts[s] for s in SHEETS}


def _renumber_after_existing(
    existing: Any, rows: list[dict[str, str]], key: str, prefix: str
) -> None:
    """Shift generated ids past ids already in the sheet (orphan rows left by hand)."""
    if existing is None or not len(existing) or key not in existing:
        return
    nums = [id_number(str(v), prefix) for v in existing[key]]
    start = max((x for x in nums if x is not None), default=0)
    for k, row in enumerate(rows, start + 1):
        row[key] = f"{prefix}{k:06d}"


__all__ = ["DEMO_PASSWORD", "demo_password_hash", "generate", "seed_demo"]
