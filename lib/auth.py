"""Who may see and do what (SPEC §1): users, roles, permissions, PII masking, password hashes.

The service layer calls :func:`require` before every action and :func:`visible_cases` /
:func:`mask_cases` before handing data out, so no page, export, URL or CLI flag can get around
the rules.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lib.i18n import DomainError, t
from lib.schema import Sheet

ROLES = ("admin", "clerk", "handler", "supervisor", "leader")

# action -> roles that may do it (admin may do everything).
PERMISSIONS: dict[str, frozenset[str]] = {
    "intake": frozenset({"admin", "clerk"}),
    "assign": frozenset({"admin", "clerk"}),
    "reassign": frozenset({"admin", "clerk"}),
    "mark_repeat": frozenset({"admin", "clerk"}),
    "accept": frozenset({"admin", "handler"}),
    "reject": frozenset({"admin", "handler"}),
    "object": frozenset({"admin", "handler"}),
    "extend": frozenset({"admin", "handler"}),
    "meet": frozenset({"admin", "handler"}),
    "reply": frozenset({"admin", "handler"}),
    "evaluate": frozenset({"admin", "clerk", "supervisor"}),
    "instruct": frozenset({"admin", "clerk", "leader"}),
    "supervise": frozenset({"admin", "clerk", "supervisor"}),
    "escalate": frozenset({"admin", "supervisor"}),
    "import": frozenset({"admin", "clerk"}),
    "export": frozenset(ROLES),
    "read_all": frozenset({"admin", "clerk", "supervisor", "leader"}),
    "manage_users": frozenset({"admin"}),
    "manage_units": frozenset({"admin"}),
    "settings": frozenset({"admin"}),
    "init": frozenset({"admin"}),
    "seed": frozenset({"admin"}),
    "migrate": frozenset({"admin"}),
}
# Actions a handler may take only on cases of their own units.
UNIT_SCOPED = frozenset({"accept", "reject", "object", "extend", "meet", "reply"})
PII_ROLES = frozenset({"admin", "clerk"})


@dataclass(frozen=True)
class User:
    """The acting person: username, display name, role and (for handlers) units."""

    username: str
    display_name: str
    role: str
    units: frozenset[str] = field(default_factory=frozenset)

    def label(self, lang: str = "zh") -> str:
        """``张三（受理员）``."""
        return f"{self.display_name}（{t('role.' + self.role, lang)}）"

    @property
    def sees_all(self) -> bool:
        """True for roles that see every case."""
        return self.role in PERMISSIONS["read_all"]

    def may(self, action: str) -> bool:
        """True when the role may do ``action`` at all (unit scope checked separately)."""
        return self.role == "admin" or self.role in PERMISSIONS.get(action, frozenset())

    def owns(self, unit: str | None) -> bool:
        """True when ``unit`` is one of this user's units."""
        return bool(unit) and unit in self.units


LOCAL_ADMIN = User("local-admin", "本机管理员", "admin")


def require(user: User, action: str, case: Mapping[str, Any] | None = None) -> None:
    """Raise a :class:`DomainError` unless ``user`` may do ``action`` (on ``case``)."""
    if not user.may(action):
        raise DomainError(
            "err.forbidden", role=t("role." + user.role), action=t("action." + action)
        )
    if case is not None and not can_see_case(user, case):
        raise DomainError("err.not_your_unit", case_id=case.get("case_id", ""))
    if (
        case is not None
        and user.role == "handler"
        and action in UNIT_SCOPED
        and not user.owns(case.get("unit"))
    ):
        raise DomainError("err.not_your_unit", case_id=case.get("case_id", ""))


def can_see_case(user: User, case: Mapping[str, Any]) -> bool:
    """Handlers see only their units' cases; the other roles see all."""
    return user.sees_all or user.owns(case.get("unit"))


def can_see_pii(user: User, case: Mapping[str, Any]) -> bool:
    """Full PII for admin and clerk, and for the handler of the case unless it is confidential."""
    if user.role in PII_ROLES:
        return True
    if user.role == "handler" and user.owns(case.get("unit")):
        return not _truthy(case.get("confidential"))
    return False


def _truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().upper() in ("TRUE", "1", "是", "YES")
    return bool(v) if v is not None and v is not pd.NA else False


def mask_text(key: str, value: Any) -> Any:
    """Mask one PII value: ``138****0000``, ``张*``, ``110101********123X``."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return value
    s = str(value)
    if s == "":
        return s
    if key == "phone":
        digits = sum(c.isdigit() for c in s)
        if digits >= 7:
            return s[:3] + "****" + s[-4:]
        return "*" * len(s)
    if key == "id_number":
        return s[:6] + "*" * max(len(s) - 10, 0) + s[-4:] if len(s) > 10 else "*" * len(s)
    return s[0] + "*" * max(len(s) - 1, 1)


def visible_cases(user: User, cases: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``cases`` that ``user`` may see."""
    if user.sees_all or cases.empty:
        return cases
    return cases[cases["unit"].isin(list(user.units))]


def pii_mask_rows(user: User, cases: pd.DataFrame) -> pd.Series:
    """Boolean Series: True where this user must see the row's PII masked."""
    if user.role in PII_ROLES:
        return pd.Series(False, index=cases.index)
    if user.role != "handler":
        return pd.Series(True, index=cases.index)
    own = cases["unit"].isin(list(user.units))
    if "confidential" not in cases:
        return ~own
    conf = cases["confidential"].map(_truthy).astype(bool)
    return ~own | conf


def mask_cases(user: User, cases: pd.DataFrame, sheet: Sheet) -> pd.DataFrame:
    """A copy of ``cases`` with PII fields masked on the rows this user may not see in full."""
    rows = pii_mask_rows(user, cases)
    if not rows.any():
        return cases
    out = cases.copy()
    for f in sheet.fields:
        if f.pii and f.key in out.columns:
            col = out[f.key].astype(object)
            out[f.key] = col.where(~rows, col.map(lambda v, k=f.key: mask_text(k, v)))
    return out


def mask_row(user: User, case: Mapping[str, Any], sheet: Sheet) -> dict[str, Any]:
    """A copy of one case row with PII masked when this user may not see it."""
    out = dict(case)
    if not can_see_pii(user, case):
        for f in sheet.fields:
            if f.pii and f.key in out:
                out[f.key] = mask_text(f.key, out[f.key])
    return out


def user_from_row(row: Mapping[str, Any]) -> User:
    """A :class:`User` from a ``users`` sheet row (text values)."""
    units = frozenset(
        u.strip() for u in str(row.get("units") or "").replace("，", ",").split(",") if u.strip()
    )
    return User(
        username=str(row["username"]),
        display_name=str(row.get("display_name") or row["username"]),
        role=str(row.get("role") or ""),
        units=units,
    )


# --- passwords ----------------------------------------------------------------------------

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    """A salted scrypt hash: ``scrypt$n$r$p$salt$hash`` (base64)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt${n}${r}${p}${s}${h}".format(
        **_SCRYPT,
        s=base64.b64encode(salt).decode(),
        h=base64.b64encode(digest).decode(),
    )


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; constant-time comparison."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            dklen=len(expected),
            n=int(n),
            r=int(r),
            p=int(p),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def units_text(units: Iterable[str]) -> str:
    """Units as stored in the ``users`` sheet."""
    return ",".join(sorted(u for u in units if u))
