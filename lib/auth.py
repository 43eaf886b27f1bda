"""Who may see and do what (SPEC §1): users, roles, permissions, PII masking, password hashes.

The service layer calls :func:`require` before every action and :func:`visible_cases` /
:func:`mask_cases` before handing data out, so no page, export, URL or CLI flag can get around
the rules.

Sign-in rules live here too, as pure functions the service layer applies
(:meth:`lib.register.Register.authenticate`):

* Passwords are stored as salted scrypt hashes (``scrypt$n$r$p$salt$hash``) and compared with
  :func:`hmac.compare_digest`. A sign-in for an account that does not exist still runs scrypt
  once (against a dummy hash), so the time taken does not tell whether the account exists.
* After :data:`FREE_FAILURES` failed sign-ins in a row, an account waits
  :func:`lockout_seconds` before the next try: 30 s after the 5th failure, doubling with each
  further failure, at most 30 minutes. A success (or an administrator's reset) clears it.
* A new password has at least :data:`MIN_PASSWORD_LENGTH` characters, is not the username and
  is not the password it replaces (:func:`password_problem`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lib.i18n import DomainError, register_messages, t
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
    "reset_password": frozenset({"admin"}),
    "audit": frozenset({"admin", "supervisor"}),
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
    # Set at sign-in when the account still has a one-time password (not part of identity).
    must_change_password: bool = field(default=False, compare=False)

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
    """A :class:`User` from a ``users`` sheet row (text or typed values)."""
    units = frozenset(
        u.strip() for u in str(row.get("units") or "").replace("，", ",").split(",") if u.strip()
    )
    return User(
        username=str(row["username"]),
        display_name=str(row.get("display_name") or row["username"]),
        role=str(row.get("role") or ""),
        units=units,
        must_change_password=flag(row.get("must_change_password"), default=False),
    )


_YES = frozenset({"TRUE", "1", "是", "YES", "Y", "T"})
_NO = frozenset({"FALSE", "0", "否", "NO", "N", "F"})


def flag(value: Any, *, default: bool | None) -> bool | None:
    """A yes/no cell read strictly: ``default`` when empty, ``None`` when unreadable."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().upper()
    if text == "":
        return default
    if text in _YES:
        return True
    if text in _NO:
        return False
    return None


def account_active(row: Mapping[str, Any] | None) -> bool:
    """True when a ``users`` row is an active account with a known role.

    Fails closed: an unreadable ``active`` cell (a hand edit such as ``停用``) or an unknown
    role means the account cannot be used — not for sign-in, not for ``--as``.
    """
    if row is None:
        return False
    return flag(row.get("active"), default=True) is True and str(row.get("role") or "") in ROLES


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


_DUMMY_HASH: list[str] = []


def burn_verify(password: str) -> None:
    """Spend the time of one real verification (for accounts that do not exist)."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(secrets.token_urlsafe(12)))
    verify_password(password, _DUMMY_HASH[0])


def generate_password() -> str:
    """A one-time password: 12 characters, letters and digits people can read and type."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(12))
        if any(c.isdigit() for c in pw) and any(c.isalpha() for c in pw):
            return pw


# --- sign-in rules ------------------------------------------------------------------------

FREE_FAILURES = 5  # failed sign-ins in a row before the account has to wait
LOCK_BASE_SECONDS = 30
LOCK_MAX_SECONDS = 30 * 60
MIN_PASSWORD_LENGTH = 8


def lockout_seconds(failures: int) -> int:
    """How long an account waits after ``failures`` failed sign-ins in a row (0: no wait)."""
    if failures < FREE_FAILURES:
        return 0
    return min(LOCK_BASE_SECONDS * 2 ** (failures - FREE_FAILURES), LOCK_MAX_SECONDS)


def wait_seconds(locked_until: dt.datetime | None, now: dt.datetime) -> int:
    """Whole seconds left until ``locked_until`` (0 when not locked)."""
    if locked_until is None:
        return 0
    left = (locked_until - now).total_seconds()
    return max(int(left + 0.999), 0)


def password_problem(new: str, username: str, current_hash: str = "") -> str | None:
    """The message key of what is wrong with a new password, or None when it will do."""
    if len(new) < MIN_PASSWORD_LENGTH:
        return "err.password_short"
    if new.strip().casefold() == username.strip().casefold():
        return "err.password_is_username"
    if current_hash and verify_password(new, current_hash):
        return "err.password_same"
    return None


def mask_history(
    user: User, history: pd.DataFrame, cases: pd.DataFrame, sheet: Sheet
) -> pd.DataFrame:
    """History rows with the old/new values of PII fields masked where ``user`` may not see
    them in full (the same rule as the case itself: :func:`can_see_pii`)."""
    pii = {f.key for f in sheet.fields if f.pii}
    if history.empty or user.role in PII_ROLES or not {"field", "old", "new"} <= set(history):
        return history
    touches = history["field"].isin(pii)
    if not touches.any():
        return history
    if user.role == "handler" and len(cases):
        full = cases.loc[~pii_mask_rows(user, cases), "case_id"]
        touches &= ~history["case_id"].isin(list(full))
    out = history.copy()
    for col in ("old", "new"):
        out[col] = out[col].astype(object)
        out.loc[touches, col] = [
            mask_text(k, v)
            for k, v in zip(out.loc[touches, "field"], out.loc[touches, col], strict=True)
        ]
    return out


register_messages(
    {
        "action.reset_password": ("重置密码", "reset a password"),
        "action.audit": ("查看审计日志", "read the audit log"),
        "err.signin_failed": ("用户名或密码不正确", "Wrong username or password"),
        "err.signin_wait": (
            "登录失败次数过多，请 {seconds} 秒后再试",
            "Too many failed sign-ins: try again in {seconds} seconds",
        ),
        "err.signin_disabled": (
            "此账号已停用，请联系系统管理员",
            "This account is disabled; ask the administrator",
        ),
        "err.sso_unknown": (
            "您已通过单点登录验证（{email}），但本系统中没有与此邮箱对应的账号。"
            "如需使用，请联系系统管理员开通。",
            "You are signed in with single sign-on ({email}), but no account of this "
            "register has that email. Ask the administrator for access.",
        ),
        "err.sso_unverified": (
            "身份提供方未确认邮箱 {email}，无法登录",
            "The identity provider has not verified the email {email}; cannot sign in",
        ),
        "err.password_short": (
            "新密码至少需要 {min} 个字符",
            "A new password needs at least {min} characters",
        ),
        "err.password_is_username": (
            "新密码不能与用户名相同",
            "The new password cannot be the username",
        ),
        "err.password_same": (
            "新密码不能与原密码相同",
            "The new password must differ from the old one",
        ),
        "err.password_wrong": ("当前密码不正确", "The current password is wrong"),
        "err.password_mismatch": (
            "两次输入的新密码不一致",
            "The two new passwords differ",
        ),
        "err.no_password_account": (
            "账号“{username}”不能用密码登录",
            "Account “{username}” cannot sign in with a password",
        ),
    }
)
