"""The service layer: the one way to read and change the register.

Every action takes the acting :class:`~lib.auth.User`, checks the role (SPEC §1), validates
against the schema and the workflow (SPEC §3–4), writes the case with ``version + 1`` through
the store in one commit together with its ``history`` rows, and re-derives ``status``,
``accept_due`` and ``handle_due``. A stale version is refused with a conflict error and nothing
is written. Reads hand out only what the user may see, with PII masked per role.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import zoneinfo
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from lib import workflow
from lib.auth import (
    LOCAL_ADMIN,
    MIN_PASSWORD_LENGTH,
    User,
    account_active,
    burn_verify,
    can_see_case,
    flag,
    generate_password,
    hash_password,
    lockout_seconds,
    mask_cases,
    mask_history,
    mask_row,
    password_problem,
    require,
    units_text,
    user_from_row,
    verify_password,
    visible_cases,
    wait_seconds,
)
from lib.i18n import DomainError
from lib.schema import FieldError, Schema, Sheet, default_schema, parse_date
from lib.store.base import Changeset, ConflictError, NewId, Snapshot, Store, Update

log = logging.getLogger(__name__)

DEFAULT_TZ = "Asia/Shanghai"
MEET_FIELDS = {"accept": "meet_accept", "handle": "meet_handle", "reply": "meet_reply"}
ESCALATION_KIND = "提请纪委监委问责"
# Fields a reassignment (改派) clears: the old unit's whole handling.
UNIT_FIELDS = (
    "accepted_at",
    "rejected_at",
    "reject_reason",
    "extension_days",
    "extended_at",
    "extension_reason",
    "concluded_at",
    "reply",
    "meet_accept",
    "meet_handle",
    "meet_reply",
    "evaluation",
    "evaluated_at",
)
# Fields not written to history as separate changes (they change with every write).
BOOKKEEPING = ("version", "updated_at", "updated_by")


class ValidationError(DomainError):
    """One or more values are wrong; ``errors`` says which and why. Nothing was written."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("err.invalid", details="；".join(e.message("zh") for e in self.errors))

    def message(self, lang: str = "zh") -> str:
        sep = "; " if lang == "en" else "；"
        return sep.join(e.message(lang) for e in self.errors)


def _active_units(units: pd.DataFrame) -> list[str]:
    if not len(units):
        return []
    return units.loc[units["active"].fillna(True).astype(bool), "name"].tolist()


def _regions(units: pd.DataFrame) -> list[str]:
    """Active county-level units (区市县): the allowed values of ``region``."""
    if not len(units):
        return []
    active = units["active"].fillna(True).astype(bool)
    return units.loc[(units["kind"] == "区市县") & active, "name"].tolist()


@dataclass
class RegisterMeta:
    """The small sheets every action needs: units, settings and the rules they imply."""

    units: pd.DataFrame
    settings: dict[str, str]
    rules: workflow.Rules

    def active_units(self) -> list[str]:
        """Names of active units, in sheet order."""
        return _active_units(self.units)

    def regions(self) -> list[str]:
        """Names of active county-level units (区市县), the allowed values of ``region``."""
        return _regions(self.units)


@dataclass
class RegisterData:
    """One snapshot of the register, typed and ready for pages and figures."""

    snapshot: Snapshot
    cases: pd.DataFrame
    units: pd.DataFrame
    instructions: pd.DataFrame
    supervisions: pd.DataFrame
    users: pd.DataFrame
    settings: dict[str, str]
    rules: workflow.Rules
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def read_at(self) -> dt.datetime:
        """When the data was read."""
        return self.snapshot.read_at

    def active_units(self) -> list[str]:
        """Names of active units, in sheet order."""
        return _active_units(self.units)

    def regions(self) -> list[str]:
        """Names of active county-level units (区市县), the allowed values of ``region``."""
        return _regions(self.units)


@dataclass(frozen=True)
class AuditPage:
    """Rows of the audit log (:meth:`Register.audit_page`)."""

    rows: pd.DataFrame  # the first rows asked for, newest first, personal data masked
    total: int  # how many rows match the filters


def _with_flags(cases: pd.DataFrame, instructions: pd.DataFrame) -> pd.DataFrame:
    """``cases`` plus ``instructed`` (has a 批示) and ``repeats`` (how many repeat it)."""
    cases = cases.copy(deep=False)  # copy-on-write: new columns never touch the original
    if not len(cases):
        cases["instructed"] = pd.Series(dtype=bool)
        cases["repeats"] = pd.Series(dtype="int64")
        return cases
    cases["instructed"] = cases["case_id"].isin(instructions["case_id"])
    counts = cases.loc[cases["repeat_of"] != "", "repeat_of"].value_counts()
    cases["repeats"] = cases["case_id"].map(counts).fillna(0).astype("int64")
    return cases


def _now_iso(now: dt.datetime) -> str:
    return now.isoformat(timespec="seconds")


class Register:
    """The register: a store plus the rules. Safe to share between threads and sessions."""

    def __init__(
        self,
        store: Store,
        schema: Schema | None = None,
        *,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.store = store
        self.schema = schema or default_schema()
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: tuple[Any, float, RegisterData] | None = None
        self._meta_cache: tuple[Any, float, RegisterMeta] | None = None
        self._users_cache: tuple[Any, float, pd.DataFrame] | None = None
        # One snapshot read at a time: a caller that arrives while another reads waits for
        # that read instead of starting its own (a warm-up and the first page, two sessions).
        self._read_lock = threading.Lock()
        self._warming = False
        self.max_age_s: float | None = None  # None: trust the store's change token

    # -- time ------------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        """Now in the bureau's time zone (the ``timezone`` setting)."""
        tz_name = self.meta().settings.get("timezone") or DEFAULT_TZ
        try:
            tz = zoneinfo.ZoneInfo(tz_name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            tz = zoneinfo.ZoneInfo(DEFAULT_TZ)
        base = self._clock() if self._clock else dt.datetime.now(dt.UTC)
        if base.tzinfo is None:
            base = base.replace(tzinfo=tz)
        return base.astimezone(tz)

    @property
    def clock(self) -> Callable[[], dt.datetime] | None:
        """The clock this register was given (None: the wall clock)."""
        return self._clock

    def today(self) -> dt.date:
        """Today's date in the bureau's time zone."""
        return self.now().date()

    # -- reading ---------------------------------------------------------------------------

    def load(self, *, force: bool = False) -> RegisterData:
        """The whole register (all users' view), cached until it changes.

        The cache is dropped after this register's own writes; changes by other processes
        are noticed through the store's change token (SQLite), or after ``max_age_s``
        seconds for stores without one (a shared Google Sheet).
        """
        token = self._token()
        with self._lock:
            cached = self._cache
        if cached is not None and not force and self._fresh(cached, token):
            return cached[2]
        with self._read_lock:
            if not force:  # another thread may have read it while this one waited
                token = self._token()
                with self._lock:
                    cached = self._cache
                if cached is not None and self._fresh(cached, token):
                    return cached[2]
            snap = self.store.read()
            data = self._build(snap)
            with self._lock:
                self._cache = (token, time.monotonic(), data)
                self._meta_cache = (token, time.monotonic(), self._meta_of(data))
                self._users_cache = None
        return data

    def warm_up(self) -> bool:
        """Read the snapshot in a background thread unless it is cached or being read.

        For the sign-in page: it needs only the accounts (:meth:`users`), and the snapshot
        is ready by the time someone has typed their password. True when a read started.
        """
        with self._lock:
            if self._warming or self._cache is not None:
                return False
            self._warming = True

        def read() -> None:
            try:
                self.load()
            except Exception:  # the page that needs it will read again and say why
                log.exception("reading the register in the background failed")
            finally:
                with self._lock:
                    self._warming = False

        threading.Thread(target=read, name="register-warm-up", daemon=True).start()
        return True

    def users(self) -> pd.DataFrame:
        """The accounts (no password hashes), as :attr:`RegisterData.users` holds them.

        From the cached snapshot when it is fresh; otherwise one read of the users sheet
        alone (the sign-in page does not wait for every case to be read). Not role-checked:
        it serves the sign-in, before anyone is signed in; pages show accounts through
        :meth:`data`, which hides them from the roles that may not see them.
        """
        token = self._token()
        with self._lock:
            cached, users = self._cache, self._users_cache
        if cached is not None and self._fresh(cached, token):
            return cached[2].users
        if users is not None and self._fresh(users, token):
            return users[2]
        snap = self.store.read(["users"])
        raw = snap.frames.get("users")
        if raw is None:
            raw = pd.DataFrame(columns=["_row", *self.schema["users"].keys])
        frame = self._public_users(self.schema["users"].typed_frame(raw))
        with self._lock:
            self._users_cache = (token, time.monotonic(), frame)
        return frame

    def _public_users(self, frame: pd.DataFrame) -> pd.DataFrame:
        secret = [f.key for f in self.schema["users"].fields if f.secret]
        return frame.drop(columns=secret, errors="ignore")

    def _token(self) -> Any:
        token_fn = getattr(self.store, "change_token", None)
        return token_fn() if token_fn else None

    def _fresh(self, cached: tuple[Any, float, Any], token: Any) -> bool:
        c_token, c_time, _ = cached
        if token is not None:
            return token == c_token
        return self.max_age_s is not None and time.monotonic() - c_time < self.max_age_s

    def meta(self) -> RegisterMeta:
        """Units, settings and rules only: what actions need, without reading every case."""
        token = self._token()
        with self._lock:
            cached = self._meta_cache
        if cached is not None and self._fresh(cached, token):
            return cached[2]
        snap = self.store.read(["units", "settings"])
        units = self.schema["units"].typed_frame(snap["units"])
        settings = self._settings_from(self.schema["settings"].typed_frame(snap["settings"]))
        meta = RegisterMeta(units, settings, workflow.Rules.from_settings(settings))
        with self._lock:
            self._meta_cache = (token, time.monotonic(), meta)
        return meta

    @staticmethod
    def _meta_of(data: RegisterData) -> RegisterMeta:
        return RegisterMeta(data.units, data.settings, data.rules)

    def invalidate(self) -> None:
        """Drop the cached snapshot (after a write, or on the user's refresh)."""
        with self._lock:
            self._cache = None
            self._meta_cache = None
            self._users_cache = None

    def _build(self, snap: Snapshot) -> RegisterData:
        s = self.schema
        frames = {}
        for name in ("cases", "units", "instructions", "supervisions", "users", "settings"):
            raw = snap.frames.get(name)
            if raw is None:
                raw = pd.DataFrame(columns=["_row", *s[name].keys])
            frames[name] = s[name].typed_frame(raw)
        settings = self._settings_from(frames["settings"])
        rules = workflow.Rules.from_settings(settings)
        cases = _with_flags(frames["cases"], frames["instructions"])
        instr = frames["instructions"]
        sup = frames["supervisions"]
        return RegisterData(
            snapshot=snap,
            cases=cases,
            units=frames["units"],
            instructions=instr,
            supervisions=sup,
            users=self._public_users(frames["users"]),
            settings=settings,
            rules=rules,
        )

    def _settings_from(self, frame: pd.DataFrame) -> dict[str, str]:
        defaults = self.schema["settings"].defaults
        out = {k: str(v.get("value", "")) for k, v in defaults.items()}
        for k, v in zip(frame.get("key", []), frame.get("value", []), strict=False):
            if k:
                out[str(k)] = "" if v is None else str(v)
        return out

    def data(self, user: User, *, force: bool = False) -> RegisterData:
        """What ``user`` may see: their cases (all, or their units'), PII masked by role."""
        full = self.load(force=force)
        if user.role == "admin" or user.role == "clerk":
            return full
        cases = visible_cases(user, full.cases)
        keep = set(cases["case_id"])
        cases = mask_cases(user, cases, self.schema["cases"])
        instr = full.instructions[full.instructions["case_id"].isin(keep)]
        sup = full.supervisions[full.supervisions["case_id"].isin(keep)]
        users = full.users if user.role == "supervisor" else full.users.iloc[0:0]
        return RegisterData(
            snapshot=full.snapshot,
            cases=cases,
            units=full.units,
            instructions=instr,
            supervisions=sup,
            users=users,
            settings=full.settings,
            rules=full.rules,
        )

    def rules(self) -> workflow.Rules:
        """The deadline rules in force."""
        return self.meta().rules

    def settings(self) -> dict[str, str]:
        """Every setting (defaults filled in)."""
        return self.meta().settings

    def get_case(self, user: User, case_id: str) -> dict[str, str]:
        """One case as canonical text, read afresh; refused if the user may not see it."""
        row = self.store.get_row("cases", case_id)
        if row is None:
            raise DomainError("err.not_found", case_id=case_id)
        if not can_see_case(user, row):
            raise DomainError("err.not_your_unit", case_id=case_id)
        return mask_row(user, row, self.schema["cases"])

    def history(self, user: User, case_id: str | None = None) -> pd.DataFrame:
        """History rows (all, or of one case) the user may see, oldest first."""
        if case_id is not None:
            self.get_case(user, case_id)  # access check
            rows_where = getattr(self.store, "rows_where", None)
            if rows_where is not None:
                frame = pd.DataFrame(rows_where("history", "case_id", case_id))
            else:
                frame = self.store.read(["history"])["history"]
                frame = frame[frame["case_id"] == case_id]
        else:
            frame = self.store.read(["history"])["history"]
            if not user.sees_all:
                mine = set(visible_cases(user, self.load().cases)["case_id"])
                frame = frame[frame["case_id"].isin(mine)]
        if frame.empty:
            return pd.DataFrame(columns=self.schema["history"].keys)
        # Old/new values of personal data fields are masked as on the case itself.
        return mask_history(
            user, frame.reset_index(drop=True), self.load().cases, self.schema["cases"]
        )

    def export_rows(
        self, user: User, sheet_name: str, *, case_ids: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """A sheet as canonical text, as ``user`` may see it, for export (logged in history).

        Cases: only the user's visible cases (optionally just ``case_ids``), PII masked per
        role. Instructions, supervisions and history: those of visible cases. Users: admins
        only. Secret columns (password hashes) never leave.
        """
        require(user, "export")
        sheet = self.schema[sheet_name]
        if sheet_name == "users":
            require(user, "manage_users")
        if sheet_name in ("settings",):
            require(user, "settings")
        raw = self.store.read([sheet_name])[sheet_name]
        keys = [f.key for f in sheet.fields if not f.secret]
        for k in keys:
            if k not in raw.columns:
                raw[k] = sheet.field(k).default_text
        frame = raw[keys].fillna("").astype(str)
        if sheet_name == "cases":
            frame = visible_cases(user, frame)
            if case_ids is not None:
                frame = frame[frame["case_id"].isin(list(case_ids))]
            frame = mask_cases(user, frame, sheet)
        elif "case_id" in frame.columns and not user.sees_all:
            mine = set(visible_cases(user, self.load().cases)["case_id"])
            frame = frame[frame["case_id"].isin(mine)]
        if sheet_name == "history":
            frame = mask_history(user, frame, self.load().cases, self.schema["cases"])
        now = self.now()
        cs = Changeset()
        cs.append(
            "history",
            self._history_row(user, now, "", "export", sheet_name, "", f"{len(frame)} rows"),
        )
        self._commit(cs)
        return frame.reset_index(drop=True)

    def find_user(self, username: str) -> User:
        """The active user ``username`` (for ``--as`` and sign-in)."""
        row = self.store.get_row("users", username)
        if not account_active(row):  # unreadable 'active' or role: refused too
            raise DomainError("err.unknown_user", username=username)
        return user_from_row(row)

    # -- writing: helpers ------------------------------------------------------------------

    def _history_row(
        self, user: User, now: dt.datetime, case_id: Any, action: str, fld: str, old: Any, new: Any
    ) -> dict[str, Any]:
        return {
            "timestamp": _now_iso(now),
            "user": user.username,
            "case_id": case_id,
            "action": action,
            "field": fld,
            "old": "" if old is None else old,
            "new": "" if new is None else new,
        }

    def _commit(self, changes: Changeset) -> dict[NewId, str]:
        """Write through the store, then bring the cached snapshot up to date.

        When nothing but this commit changed the register since the snapshot was read, the
        snapshot is patched with the rows just written (milliseconds) instead of being read
        again (seconds on a large register); otherwise it is dropped and read afresh.
        """
        with self._lock:
            cached = self._cache
        try:
            allocated = self.store.commit(changes)
        except BaseException:
            self.invalidate()
            raise
        patched = None
        try:
            patched = self._patched(cached, changes)
        except Exception:  # a patch is an optimisation: never let it break a write
            log.exception("snapshot patch failed; reading the register again")
        with self._lock:
            self._cache = patched
            self._users_cache = None
            # A patch never touches units or settings: they are as read.
            self._meta_cache = (
                (patched[0], patched[1], self._meta_of(patched[2])) if patched else None
            )
        return allocated

    # Accounts too: every sign-in writes its row (last sign-in, failed tries), and re-reading
    # the whole register for that would make each sign-in cost every session a full read.
    _PATCHABLE = frozenset({"cases", "instructions", "supervisions", "users", "history"})

    def _patched(
        self, cached: tuple[Any, float, RegisterData] | None, changes: Changeset
    ) -> tuple[Any, float, RegisterData] | None:
        """The cached snapshot with ``changes`` applied, or None when it must be re-read."""
        if cached is None:
            return None
        sheets = {u.sheet for u in changes.updates} | set(changes.appends)
        if not sheets <= self._PATCHABLE:
            return None  # units, settings: rare, and they change the rules
        c_token, c_time, data = cached
        token = self._token()
        last_commit = getattr(self.store, "last_commit", None)
        if token is not None:
            # Patch only when our commit is the one and only commit since the read.
            mine = last_commit() if last_commit else None
            if not (
                isinstance(c_token, tuple)
                and isinstance(token, tuple)
                and mine is not None
                and token[1] == mine == c_token[1] + 1
            ):
                return None
        frames = dict(data.snapshot.frames)
        typed = {
            "cases": data.cases.drop(columns=["instructed", "repeats"], errors="ignore"),
            "instructions": data.instructions,
            "supervisions": data.supervisions,
            "users": data.users,  # without the password hashes (a change of one: re-read)
        }
        for upd in changes.updates:
            sheet = self.schema[upd.sheet]
            raw, tf = frames[upd.sheet], typed[upd.sheet]
            hit = (raw[sheet.key] == upd.key).to_numpy()
            if hit.sum() != 1 or not (tf[sheet.key] == upd.key).to_numpy().any():
                return None
            cols = [k for k in upd.changes if k in raw.columns and k in tf.columns]
            if len(cols) != len(upd.changes):
                return None
            raw = raw.copy()
            raw.loc[hit, cols] = [str(upd.changes[k]) for k in cols]
            one = sheet.typed_frame(raw.loc[hit])
            tf = tf.copy()
            tf_hit = (tf[sheet.key] == upd.key).to_numpy()
            for k in cols:
                tf.loc[tf_hit, k] = one[k].to_numpy()
            frames[upd.sheet], typed[upd.sheet] = raw, tf
        for name, rows in changes.appends.items():
            if name == "history" or not rows:
                continue
            sheet = self.schema[name]
            new_raw = pd.DataFrame(
                [{k: str(r.get(k, "") or "") for k in sheet.keys} for r in rows], dtype=object
            )
            new_raw.insert(0, "_row", None)
            raw = frames[name]
            frames[name] = pd.concat(
                [raw, new_raw.reindex(columns=raw.columns, fill_value="")], ignore_index=True
            )
            new_typed = sheet.typed_frame(new_raw)
            tf = typed[name]
            typed[name] = (
                pd.concat([tf, new_typed.reindex(columns=tf.columns)], ignore_index=True)
                if len(tf)
                else new_typed
            )
        snap = Snapshot(
            frames, dt.datetime.now(dt.UTC), data.snapshot.source, data.snapshot.problems
        )
        new = RegisterData(
            snapshot=snap,
            cases=_with_flags(typed["cases"], typed["instructions"]),
            units=data.units,
            instructions=typed["instructions"],
            supervisions=typed["supervisions"],
            users=typed["users"],
            settings=data.settings,
            rules=data.rules,
        )
        # Without a change token the age still counts from the last real read.
        return (token, c_time if token is None else time.monotonic(), new)

    def _current(self, user: User, action: str, case_id: str, version: int | None):
        row = self._snapshot_row("cases", case_id)
        if row is None:
            row = self.store.get_row("cases", case_id)
        if row is None:
            raise DomainError("err.not_found", case_id=case_id)
        require(user, action, row)
        actual = _int(row.get("version"))
        if version is not None and actual != version:
            raise ConflictError("cases", case_id, version, actual)
        typed, _, _ = self.schema["cases"].parse_row(row)
        return row, typed, actual

    def _snapshot_row(self, sheet: str, key: str) -> dict[str, str] | None:
        """The row as this register last read (or wrote) it, for a store where a fresh read
        costs an API call (no change token: a shared Google Sheet), while the snapshot is
        younger than ``max_age_s``; None otherwise (read it afresh).

        Safe because the commit checks the row's version where it stands now: a row changed
        since by someone else is a :class:`ConflictError`, never overwritten.
        """
        if self._token() is not None:
            return None
        with self._lock:
            cached = self._cache
        if cached is None or not self._fresh(cached, None):
            return None
        raw = cached[2].snapshot.frames.get(sheet)
        key_field = self.schema[sheet].key
        if raw is None or key_field is None or key_field not in raw.columns:
            return None
        hit = raw.loc[(raw[key_field] == key).to_numpy()]
        if len(hit) != 1:
            return None
        values = hit.iloc[0]
        return {
            k: "" if values.get(k) is None or pd.isna(values.get(k)) else str(values.get(k))
            for k in self.schema[sheet].keys
        }

    def _allowed(self, data: RegisterData | RegisterMeta | None = None) -> dict[str, list[str]]:
        data = data or self.meta()
        return {"region": data.regions()}

    def _check_state(self, typed: Mapping[str, Any], action: str, states: Iterable[str]) -> None:
        status = workflow.status_of(typed)
        if status not in states:
            raise DomainError(
                "err.state",
                case_id=typed.get("case_id"),
                status=status,
                action=_action_label(action),
            )

    def _check_day(self, label_key: str, day: dt.date | str | None) -> dt.date:
        """A step's date: today when not given; a real date, and not after today."""
        today = self.today()
        if day is None or day == "":
            return today
        f = self.schema["cases"].by_key.get(label_key)
        label = f.label("zh") if f else label_key
        if isinstance(day, str):
            try:
                day = parse_date(day)
            except ValueError:
                raise ValidationError(
                    [FieldError(label_key, day, "err.date", {"label": label})]
                ) from None
        if day > today:
            raise ValidationError(
                [
                    FieldError(
                        label_key, day.isoformat(), "err.future", {"label": label, "today": today}
                    )
                ]
            )
        return day

    def _update_case(
        self,
        user: User,
        action: str,
        case_id: str,
        version: int | None,
        apply: Callable[[dict[str, Any]], None],
        *,
        states: Iterable[str] | None = None,
        notes: Mapping[str, str] | None = None,
        extra: Changeset | None = None,
    ) -> dict[str, str]:
        """Read the case, apply a change to its typed values, validate, derive, commit."""
        sheet = self.schema["cases"]
        row, typed, actual = self._current(user, action, case_id, version)
        if states is not None:
            self._check_state(typed, action, states)
        today = self.today()
        before = set(_error_keys(workflow.case_errors(typed, today, sheet)))
        new = dict(typed)
        apply(new)
        rules = self.rules()
        new.update(workflow.derive(new, rules))
        # Only errors this action introduces block it (not old hand-made ones).
        errs = [e for e in workflow.case_errors(new, today, sheet) if _error_key(e) not in before]
        # Only fields the action (or derivation) changed are rewritten: a value the sheet
        # holds that cannot be read stays exactly as it is.
        changed = _changed_keys(typed, new) - set(BOOKKEEPING)
        allowed = self._allowed()
        new_text = {}
        for key in changed:
            _, canon, err = sheet.field(key).parse(new[key], allowed=allowed.get(key))
            if err:
                errs.append(err)
            new_text[key] = canon
        if errs:
            raise ValidationError(errs)
        now = self.now()
        changes = {k: v for k, v in new_text.items() if v != (row.get(k) or "")}
        if not changes and not notes and extra is None:
            return row  # nothing to write: no new version, no history
        hist = [
            self._history_row(user, now, case_id, action, k, row.get(k, ""), v)
            for k, v in changes.items()
        ]
        for k, v in (notes or {}).items():
            hist.append(self._history_row(user, now, case_id, action, k, "", v))
        changes.update(version=str(actual + 1), updated_at=_now_iso(now), updated_by=user.username)
        cs = extra or Changeset()
        cs.updates.insert(0, Update("cases", case_id, changes, expected_version=actual))
        cs.append("history", *hist)
        self._commit(cs)
        return {**row, **changes}

    # -- writing: intake -------------------------------------------------------------------

    def intake(
        self, user: User, values: Mapping[str, Any], *, instruction: Mapping[str, Any] | None = None
    ) -> str:
        """Register a new message; returns its new case id.

        ``values`` are the intake fields by key (text or typed). Derived and workflow fields
        are ignored. ``instruction`` (leader, date, text) records a 批示 at once.
        """
        require(user, "intake")
        sheet = self.schema["cases"]
        data = self.meta()
        raw = {
            f.key: values.get(f.key)
            for f in sheet.fields
            if not f.derived and not f.workflow and f.key in values
        }
        typed, text, errors = sheet.parse_row(raw, allowed=self._allowed(data), skip_derived=True)
        for k in [f.key for f in sheet.fields if f.workflow]:
            typed[k], text[k] = None, sheet.field(k).default_text
            if text[k]:
                typed[k] = sheet.field(k).parse(text[k])[0]
        today = self.today()
        errors += workflow.case_errors(typed, today, sheet)
        if text.get("repeat_of") and self.store.get_row("cases", text["repeat_of"]) is None:
            errors.append(
                FieldError(
                    "repeat_of",
                    text["repeat_of"],
                    "err.ref",
                    {"label": sheet.field("repeat_of").label()},
                )
            )
        instr_row = None
        if instruction:
            instr_row, ierr = self._instruction_row(user, None, instruction, today)
            errors += ierr
        if errors:
            raise ValidationError(errors)
        now = self.now()
        prefix = data.settings.get("case_id_prefix") or "GA"
        new_id = NewId(f"{prefix}{typed['received_at'].year}-")
        derived = workflow.derive(typed, data.rules)
        row = {
            **text,
            "case_id": new_id,
            "status": derived["status"],
            "accept_due": "",
            "handle_due": "",
            "version": "1",
            "updated_at": _now_iso(now),
            "updated_by": user.username,
        }
        cs = Changeset()
        cs.append("cases", row)
        cs.append(
            "history", self._history_row(user, now, new_id, "intake", "", "", text.get("title", ""))
        )
        if instr_row is not None:
            instr_row["case_id"] = new_id
            cs.append("instructions", instr_row)
            cs.append(
                "history",
                self._history_row(user, now, new_id, "instruct", "", "", instr_row["text"]),
            )
        allocated = self._commit(cs)
        return allocated[new_id]

    # -- writing: the workflow -------------------------------------------------------------

    def assign(
        self,
        user: User,
        case_id: str,
        *,
        unit: str,
        lead_official: str = "",
        assigned_at: dt.date | str | None = None,
        version: int | None = None,
    ) -> dict[str, str]:
        """交办: send a waiting case to a handling unit."""
        require(user, "assign")  # the role first: no hints for those who may not
        day = self._check_day("assigned_at", assigned_at)
        self._check_unit(unit)

        def apply(c: dict[str, Any]) -> None:
            c.update(unit=unit, lead_official=lead_official or "", assigned_at=day)

        return self._update_case(user, "assign", case_id, version, apply, states=["待交办"])

    def assign_many(
        self,
        user: User,
        case_ids: Sequence[str],
        *,
        unit: str,
        lead_official: str = "",
        assigned_at: dt.date | str | None = None,
    ) -> list[str]:
        """Assign several waiting cases to one unit; returns the ids assigned."""
        done = []
        for cid in case_ids:
            self.assign(user, cid, unit=unit, lead_official=lead_official, assigned_at=assigned_at)
            done.append(cid)
        return done

    def reassign(
        self,
        user: User,
        case_id: str,
        *,
        unit: str,
        reason: str,
        lead_official: str = "",
        assigned_at: dt.date | str | None = None,
        version: int | None = None,
    ) -> dict[str, str]:
        """改派: move a case to another unit; clears the old unit's dates, restarts the clocks."""
        require(user, "reassign")  # the role first: no hints for those who may not
        _need_reason(reason)
        day = self._check_day("assigned_at", assigned_at)
        self._check_unit(unit)
        sheet = self.schema["cases"]

        def apply(c: dict[str, Any]) -> None:
            for k in UNIT_FIELDS:
                if k in sheet.by_key:
                    c[k] = sheet.field(k).default if sheet.field(k).type == "int" else None
            c.update(unit=unit, lead_official=lead_official or "", assigned_at=day)

        return self._update_case(
            user,
            "reassign",
            case_id,
            version,
            apply,
            states=["已交办", "办理中", "不予受理"],
            notes={"reason": reason},
        )

    def accept(
        self,
        user: User,
        case_id: str,
        *,
        accepted_at: dt.date | str | None = None,
        met: bool = False,
        version: int | None = None,
    ) -> dict[str, str]:
        """受理: the unit issues its notice of acceptance (optionally meeting the petitioner)."""
        require(user, "accept")  # the role first: no hints for those who may not
        day = self._check_day("accepted_at", accepted_at)

        def apply(c: dict[str, Any]) -> None:
            c["accepted_at"] = day
            if met:
                c["meet_accept"] = day

        return self._update_case(user, "accept", case_id, version, apply, states=["已交办"])

    def reject(
        self,
        user: User,
        case_id: str,
        *,
        reason: str,
        rejected_at: dt.date | str | None = None,
        version: int | None = None,
    ) -> dict[str, str]:
        """不予受理: the unit issues a notice of non-acceptance with a reason (terminal)."""
        require(user, "reject")  # the role first: no hints for those who may not
        _need_reason(reason)
        day = self._check_day("rejected_at", rejected_at)

        def apply(c: dict[str, Any]) -> None:
            c.update(rejected_at=day, reject_reason=reason)

        return self._update_case(user, "reject", case_id, version, apply, states=["已交办"])

    def object(
        self,
        user: User,
        case_id: str,
        *,
        reason: str,
        returned_at: dt.date | str | None = None,
        version: int | None = None,
    ) -> dict[str, str]:
        """退回: the unit returns a case it should not handle, within N working days."""
        require(user, "object")  # the role first: no hints for those who may not
        _need_reason(reason)
        day = self._check_day("returned_at", returned_at)
        rules = self.rules()

        def apply(c: dict[str, Any]) -> None:
            due = workflow.objection_due(c["assigned_at"], rules)
            if day > due:
                raise DomainError(
                    "err.object_window", days=rules.object_working_days, due=due.isoformat()
                )
            if day < c["assigned_at"]:
                raise ValidationError(
                    [
                        FieldError(
                            "returned_at",
                            day.isoformat(),
                            "err.order",
                            {
                                "label": "退回日期",
                                "other_label": "交办日期",
                                "other": c["assigned_at"].isoformat(),
                            },
                        )
                    ]
                )
            c.update(
                unit="", lead_official="", assigned_at=None, returned_at=day, return_reason=reason
            )

        return self._update_case(user, "object", case_id, version, apply, states=["已交办"])

    def extend(
        self,
        user: User,
        case_id: str,
        *,
        days: int,
        reason: str,
        extended_at: dt.date | str | None = None,
        version: int | None = None,
    ) -> dict[str, str]:
        """延期: extend the handling deadline once, by 1..max days, with a reason."""
        require(user, "extend")  # the role first: no hints for those who may not
        _need_reason(reason)
        rules = self.rules()
        try:
            days = int(days)
        except (TypeError, ValueError):
            raise DomainError("err.extension_range", max=rules.max_extension_days) from None
        if not 1 <= days <= rules.max_extension_days:
            raise DomainError("err.extension_range", max=rules.max_extension_days)
        day = self._check_day("extended_at", extended_at)

        def apply(c: dict[str, Any]) -> None:
            if c.get("extension_days"):
                raise DomainError("err.extension_once", case_id=case_id)
            c.update(extension_days=days, extended_at=day, extension_reason=reason)

        return self._update_case(user, "extend", case_id, version, apply, states=["办理中"])

    def meet(
        self,
        user: User,
        case_id: str,
        *,
        stage: str,
        met_at: dt.date | str | None = None,
        version: int | None = None,
    ) -> dict[str, str]:
        """三见面: record that the unit met the petitioner (stage: accept, handle or reply)."""
        require(user, "meet")  # the role first: no hints for those who may not
        if stage not in MEET_FIELDS:
            raise ValueError(f"stage must be one of {sorted(MEET_FIELDS)}")
        key = MEET_FIELDS[stage]
        day = self._check_day(key, met_at)

        def apply(c: dict[str, Any]) -> None:
            c[key] = day

        states = ["已交办", "办理中", "已办结", "已评价", "不予受理"]
        if stage != "accept":
            states = ["办理中", "已办结", "已评价"]
        return self._update_case(user, "meet", case_id, version, apply, states=states)

    def reply(
        self,
        user: User,
        case_id: str,
        *,
        reply: str,
        concluded_at: dt.date | str | None = None,
        met: bool = False,
        version: int | None = None,
    ) -> dict[str, str]:
        """答复办结: the unit issues its reply; the case is concluded."""
        require(user, "reply")  # the role first: no hints for those who may not
        if not str(reply or "").strip():
            f = self.schema["cases"].field("reply")
            raise ValidationError([FieldError("reply", "", "err.required", {"label": f.label()})])
        day = self._check_day("concluded_at", concluded_at)

        def apply(c: dict[str, Any]) -> None:
            c.update(concluded_at=day, reply=reply)
            if met:
                c["meet_reply"] = day

        return self._update_case(user, "reply", case_id, version, apply, states=["办理中"])

    def evaluate(
        self,
        user: User,
        case_id: str,
        *,
        evaluation: str,
        evaluated_at: dt.date | str | None = None,
        version: int | None = None,
    ) -> dict[str, str]:
        """回访评价: record the petitioner's rating of the reply."""
        require(user, "evaluate")  # the role first: no hints for those who may not
        f = self.schema["cases"].field("evaluation")
        if evaluation not in (f.enum or ()):
            raise ValidationError(
                [
                    FieldError(
                        "evaluation",
                        str(evaluation),
                        "err.enum",
                        {"label": f.label(), "allowed": "、".join(f.enum or ())},
                    )
                ]
            )
        day = self._check_day("evaluated_at", evaluated_at)

        def apply(c: dict[str, Any]) -> None:
            c.update(evaluation=evaluation, evaluated_at=day)

        return self._update_case(user, "evaluate", case_id, version, apply, states=["已办结"])

    def mark_repeat(
        self, user: User, case_id: str, *, repeat_of: str, version: int | None = None
    ) -> dict[str, str]:
        """Link a case as a repeat of an earlier one (or unlink with '')."""
        require(user, "mark_repeat")  # the role first: no hints for those who may not
        if repeat_of and self.store.get_row("cases", repeat_of) is None:
            raise DomainError("err.not_found", case_id=repeat_of)

        def apply(c: dict[str, Any]) -> None:
            c["repeat_of"] = repeat_of

        return self._update_case(user, "mark_repeat", case_id, version, apply)

    # -- writing: instructions and supervision ---------------------------------------------

    def _instruction_row(
        self, user: User, case_id: Any, values: Mapping[str, Any], today: dt.date
    ) -> tuple[dict[str, Any], list[FieldError]]:
        sheet = self.schema["instructions"]
        raw = {**values, "case_id": case_id or "pending"}
        if not raw.get("date"):
            raw["date"] = today
        typed, text, errors = sheet.parse_row(raw, skip_derived=True)
        if typed.get("date") and typed["date"] > today:
            errors.append(
                FieldError(
                    "date",
                    text["date"],
                    "err.future",
                    {"label": sheet.field("date").label(), "today": today},
                )
            )
        text["instruction_id"] = NewId("PS", 6)
        text["recorded_by"] = user.username
        return text, errors

    def instruct(
        self,
        user: User,
        case_id: str,
        *,
        leader: str,
        text: str,
        date: dt.date | str | None = None,
    ) -> str:
        """批示: record a leader's written instruction on a case; returns its id."""
        row = self.store.get_row("cases", case_id)
        if row is None:
            raise DomainError("err.not_found", case_id=case_id)
        require(user, "instruct", row)
        today = self.today()
        instr, errors = self._instruction_row(
            user, case_id, {"leader": leader, "text": text, "date": date}, today
        )
        if errors:
            raise ValidationError(errors)
        now = self.now()
        nid = instr["instruction_id"]
        cs = Changeset()
        cs.append("instructions", instr)
        cs.append("history", self._history_row(user, now, case_id, "instruct", "", "", text))
        return self._commit(cs)[nid]

    def supervise(
        self,
        user: User,
        case_id: str,
        *,
        kind: str,
        note: str = "",
        due: dt.date | str | None = None,
        date: dt.date | str | None = None,
        outcome: str = "",
        action: str = "supervise",
    ) -> str:
        """督办: record a supervision action on a case; returns its id."""
        row = self.store.get_row("cases", case_id)
        if row is None:
            raise DomainError("err.not_found", case_id=case_id)
        require(user, action, row)
        sheet = self.schema["supervisions"]
        today = self.today()
        raw = {
            "case_id": case_id,
            "date": date or today,
            "kind": kind,
            "by": user.display_name,
            "note": note,
            "due": due,
            "outcome": outcome,
        }
        typed, text, errors = sheet.parse_row(raw, skip_derived=True)
        if typed.get("date") and typed["date"] > today:
            errors.append(
                FieldError(
                    "date",
                    text["date"],
                    "err.future",
                    {"label": sheet.field("date").label(), "today": today},
                )
            )
        if errors:
            raise ValidationError(errors)
        nid = text["supervision_id"] = NewId("DB", 6)
        now = self.now()
        cs = Changeset()
        cs.append("supervisions", text)
        cs.append("history", self._history_row(user, now, case_id, action, "kind", "", kind))
        return self._commit(cs)[nid]

    def escalate(
        self, user: User, case_id: str, *, reason: str, date: dt.date | str | None = None
    ) -> str:
        """提请纪委监委问责: escalate a case to the discipline commission, with a reason."""
        _need_reason(reason)
        return self.supervise(
            user, case_id, kind=ESCALATION_KIND, note=reason, date=date, action="escalate"
        )

    # -- bulk writes (import, demo data, migration) ----------------------------------------

    def bulk_append(
        self,
        user: User,
        sheet_name: str,
        rows: Sequence[dict[str, Any]],
        *,
        action: str,
        note: str = "",
        chunk: int = 5000,
        progress: Callable[[int, int], None] | None = None,
        history: bool = True,
    ) -> list[str]:
        """Append already-validated rows of canonical text, in transactions of ``chunk`` rows.

        Used by import, demo data and migration (``action`` is the permission checked:
        ``import``, ``seed`` or ``migrate``). A row may hold a :class:`NewId` as its key;
        the ids allocated are returned in row order. Each row gets one ``history`` row
        (``action``, with ``note``) unless ``history`` is False (migration copies history
        itself). ``progress(done, total)`` is called after each chunk.
        """
        require(user, action)
        sheet = self.schema[sheet_name]
        total = len(rows)
        ids: list[str] = []
        done = 0
        try:
            for start in range(0, total, max(chunk, 1)):
                part = [dict(r) for r in rows[start : start + chunk]]
                now = self.now()
                cs = Changeset()
                cs.append(sheet_name, *part)
                if history:
                    for r in part:
                        key = r.get(sheet.key) if sheet.key else ""
                        case_key = key if sheet_name == "cases" else ""
                        fld = "" if sheet_name == "cases" else sheet_name
                        new = (
                            note if sheet_name == "cases" else (key if isinstance(key, str) else "")
                        )
                        cs.append(
                            "history", self._history_row(user, now, case_key, action, fld, "", new)
                        )
                allocated = self.store.commit(cs)
                for r in part:
                    key = r.get(sheet.key) if sheet.key else None
                    ids.append(allocated.get(key, key) if isinstance(key, NewId) else key)
                done += len(part)
                if progress:
                    progress(done, total)
        finally:
            self.invalidate()
        return ids

    # -- units, users, settings ------------------------------------------------------------

    def _check_unit(self, unit: str) -> None:
        data = self.meta()
        units = data.units
        match = units[units["name"] == unit]
        if match.empty:
            f = self.schema["cases"].field("unit")
            raise ValidationError([FieldError("unit", unit, "err.ref", {"label": f.label()})])
        active = match["active"].iloc[0]
        if active is not pd.NA and not bool(active):
            raise DomainError("err.unit_inactive", unit=unit)

    def upsert_row(
        self, user: User, sheet_name: str, values: Mapping[str, Any], *, action: str
    ) -> dict[str, str]:
        """Add or change one row of ``units``, ``users`` or ``settings`` by its key."""
        require(user, action)
        sheet: Sheet = self.schema[sheet_name]
        current = self.store.get_row(sheet_name, str(values[sheet.key]))
        base = {k: v for k, v in (current or {}).items() if k in sheet.by_key}
        merged = {**base, **{k: v for k, v in values.items() if k in sheet.by_key}}
        _, text, errors = sheet.parse_row(merged, skip_derived=True)
        if errors:
            raise ValidationError(errors)
        now = self.now()
        cs = Changeset()
        key = text[sheet.key]
        if current is None:
            text["version"] = "1"
            cs.append(sheet_name, text)
            cs.append("history", self._history_row(user, now, "", action, sheet_name, "", key))
        else:
            changes = {
                k: v for k, v in text.items() if k != "version" and v != (current.get(k) or "")
            }
            if not changes:
                return current
            version = _int(current.get("version"))
            changes["version"] = str(version + 1)
            cs.updates.append(Update(sheet_name, key, changes, expected_version=version))
            for k, v in changes.items():
                if k == "version":
                    continue
                secret = sheet.by_key[k].secret if k in sheet.by_key else False
                cs.append(
                    "history",
                    self._history_row(
                        user,
                        now,
                        "",
                        action,
                        f"{sheet_name}.{key}.{k}",
                        "***" if secret else current.get(k, ""),
                        "***" if secret else v,
                    ),
                )
        self._commit(cs)
        return {**(current or {}), **text}

    def save_unit(self, user: User, values: Mapping[str, Any]) -> dict[str, str]:
        """Add or change a handling unit."""
        return self.upsert_row(user, "units", values, action="manage_units")

    def set_setting(self, user: User, key: str, value: Any) -> None:
        """Change one setting (validated against its definition)."""
        defs = self.schema["settings"].defaults
        if key not in defs:
            raise DomainError("err.setting", key=key, value=value)
        d = defs[key]
        text = str(value).strip()
        if d.get("type") == "int" and not text.isdigit():
            raise DomainError("err.setting", key=key, value=value)
        if d.get("type") == "enum" and text not in d.get("enum", []):
            raise DomainError("err.setting", key=key, value=value)
        if key == "timezone":
            try:
                zoneinfo.ZoneInfo(text)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise DomainError("err.setting", key=key, value=value) from None
        trial = {**self.settings(), key: text}
        workflow.Rules.from_settings(trial)
        self.upsert_row(user, "settings", {"key": key, "value": text}, action="settings")

    def save_user(
        self,
        user: User,
        username: str,
        *,
        role: str | None = None,
        display_name: str | None = None,
        units: Iterable[str] | None = None,
        password: str | None = None,
        active: bool | None = None,
        must_change_password: bool | None = None,
        email: str | None = None,
    ) -> dict[str, str]:
        """Add or change an account (password stored as a salted scrypt hash)."""
        values: dict[str, Any] = {"username": username}
        if role is not None:
            values["role"] = role
        if display_name is not None:
            values["display_name"] = display_name
        elif self.store.get_row("users", username) is None:
            values["display_name"] = username
        if units is not None:
            values["units"] = units_text(units)
        if password is not None:
            values["password_hash"] = hash_password(password)
            values["failed_count"] = 0  # a new password lifts any wait after failed sign-ins
            values["locked_until"] = ""
        if active is not None:
            values["active"] = active
        if must_change_password is not None:
            values["must_change_password"] = must_change_password
        if email is not None:
            values["email"] = email
        if values.get("role") == "handler" or (units is not None):
            unknown = [u for u in (units or []) if u not in set(self.meta().units["name"])]
            if unknown:
                f = self.schema["users"].field("units")
                raise ValidationError(
                    [FieldError("units", ",".join(unknown), "err.ref", {"label": f.label()})]
                )
        row = self.upsert_row(user, "users", values, action="manage_users")
        return {k: v for k, v in row.items() if k != "password_hash"}

    # -- sign-in, passwords and the audit log (SPEC §1; the rules are in lib.auth) ---------
    #
    # Sign-in bookkeeping runs on the real clock, not the register's business clock: a
    # frozen date (LIUYAN_TODAY) must not freeze a lockout. Every attempt lands in
    # ``history``: ``signin``, ``signin_failed`` (field: password or sso; new: why),
    # ``signin_locked`` (an attempt while the account waits), ``signout`` / ``timeout``.

    def _wall_now(self, now: dt.datetime | None) -> dt.datetime:
        tz = self.now().tzinfo
        base = now or dt.datetime.now(dt.UTC)
        if base.tzinfo is None:
            base = base.replace(tzinfo=tz)
        return base.astimezone(tz)

    def _event(
        self, username: str, now: dt.datetime, action: str, fld: str = "", new: str = ""
    ) -> dict[str, Any]:
        return self._history_row(User(username, username, ""), now, "", action, fld, "", new)

    def _ghosts(self) -> dict[str, tuple[int, dt.datetime | None]]:
        """Failed sign-ins of names that are not accounts (kept in memory, per process), so
        that they wait exactly as a real account would: the answer never tells which is which."""
        ghosts = getattr(self, "_ghost_failures", None)
        if ghosts is None:
            ghosts = self._ghost_failures = {}
        return ghosts

    def _failures(self, name: str, row: Mapping[str, Any] | None) -> tuple[int, dt.datetime | None]:
        if row is None:
            return self._ghosts().get(name, (0, None))
        count = _int(row.get("failed_count"))
        raw = str(row.get("locked_until") or "").strip()
        try:
            until = dt.datetime.fromisoformat(raw) if raw else None
        except ValueError:
            until = None
        if until is not None and until.tzinfo is None:
            until = until.replace(tzinfo=self.now().tzinfo)
        return count, until

    def _fail(
        self,
        name: str,
        row: Mapping[str, Any] | None,
        now: dt.datetime,
        why: str,
        *,
        fld: str = "password",
        action: str = "signin_failed",
    ) -> DomainError:
        """Count one failure (and maybe start a wait); returns the error to raise."""
        count, _ = self._failures(name, row)
        count += 1
        wait = lockout_seconds(count)
        until = now + dt.timedelta(seconds=wait) if wait else None
        cs = Changeset()
        if row is None:
            ghosts = self._ghosts()
            ghosts.pop(name, None)
            ghosts[name] = (count, until)
            while len(ghosts) > 10_000:  # bounded: forget the oldest
                ghosts.pop(next(iter(ghosts)))
        else:
            version = _int(row.get("version"))
            changes = {
                "failed_count": str(count),
                "locked_until": _now_iso(until) if until else "",
                "version": str(version + 1),
            }
            cs.updates.append(Update("users", name, changes, expected_version=version))
        note = f"{why}; {count}" + (f"; wait {wait}s" if wait else "")
        cs.append("history", self._event(name, now, action, fld, note))
        self._commit(cs)
        if wait:
            return DomainError("err.signin_wait", seconds=wait)
        return DomainError("err.signin_failed")

    def _check_wait(self, name: str, row: Mapping[str, Any] | None, now: dt.datetime) -> None:
        _, until = self._failures(name, row)
        wait = wait_seconds(until, now)
        if wait:
            cs = Changeset()
            cs.append("history", self._event(name, now, "signin_locked", "password", f"{wait}s"))
            self._commit(cs)
            raise DomainError("err.signin_wait", seconds=wait)

    def authenticate(self, username: str, password: str, *, now: dt.datetime | None = None) -> User:
        """Sign in with a password; returns the account's :class:`User`.

        Refusals never tell whether the account exists: a wrong password and an unknown
        name give the same message after the same work (one scrypt), and both wait after
        :data:`lib.auth.FREE_FAILURES` failures in a row (:func:`lib.auth.lockout_seconds`).
        Only someone who typed the right password learns that the account is disabled.
        """
        name = _clean_name(username)
        now = self._wall_now(now)
        for attempt in range(3):
            row = self.store.get_row("users", name) if name else None
            try:
                return self._authenticate(name, password, row, now)
            except ConflictError:  # the row changed meanwhile (another sign-in): read again
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _authenticate(
        self, name: str, password: str, row: Mapping[str, Any] | None, now: dt.datetime
    ) -> User:
        self._check_wait(name, row, now)
        stored = str((row or {}).get("password_hash") or "")
        if stored:
            ok = verify_password(password or "", stored)
        else:
            burn_verify(password or "")
            ok = False
        if not ok:
            why = "wrong_password" if stored else ("unknown" if row is None else "no_password")
            raise self._fail(name, row, now, why)
        assert row is not None
        if not account_active(row):
            cs = Changeset()
            cs.append("history", self._event(name, now, "signin_failed", "password", "disabled"))
            self._commit(cs)
            raise DomainError("err.signin_disabled")
        self._signed_in(row, now, "password")
        return user_from_row(row)

    def _signed_in(self, row: Mapping[str, Any], now: dt.datetime, how: str) -> None:
        name = str(row["username"])
        version = _int(row.get("version"))
        changes = {"failed_count": "0", "locked_until": "", "last_sign_in": _now_iso(now)}
        changes["version"] = str(version + 1)
        cs = Changeset()
        cs.updates.append(Update("users", name, changes, expected_version=version))
        cs.append("history", self._event(name, now, "signin", how))
        self._commit(cs)

    def authenticate_sso(
        self, email: str, *, verified: bool | None = None, now: dt.datetime | None = None
    ) -> User:
        """Sign in through single sign-on: the active account whose ``email`` matches.

        The identity provider has checked who it is; this decides what they may do. An
        email no account has (or only a disabled one, or several) is refused politely and
        the attempt is logged. ``verified=False`` (the provider's ``email_verified`` claim)
        is refused too.
        """
        now = self._wall_now(now)
        shown = _clean_name(email, 200)
        wanted = shown.casefold()
        if verified is False:
            cs = Changeset()
            cs.append("history", self._event(shown, now, "signin_failed", "sso", "unverified"))
            self._commit(cs)
            raise DomainError("err.sso_unverified", email=shown)
        users = self.store.read(["users"])["users"]
        rows = []
        if wanted and len(users) and "email" in users:
            emails = users["email"].fillna("").astype(str).str.strip().str.casefold()
            rows = [r for r in users[emails == wanted].to_dict("records") if account_active(r)]
        if len(rows) != 1:
            why = "unknown" if not rows else "ambiguous"
            cs = Changeset()
            cs.append("history", self._event(shown, now, "signin_failed", "sso", why))
            self._commit(cs)
            raise DomainError("err.sso_unknown", email=shown)
        for attempt in range(3):
            row = self.store.get_row("users", str(rows[0]["username"]))
            if not account_active(row):
                raise DomainError("err.sso_unknown", email=shown)
            try:
                self._signed_in(row, now, "sso")
                break
            except ConflictError:
                if attempt == 2:
                    raise
        return replace(user_from_row(row), must_change_password=False)

    def sign_out(
        self, user: User, *, reason: str = "signout", now: dt.datetime | None = None
    ) -> None:
        """Record that ``user`` signed out (``reason``: ``signout`` or ``timeout``)."""
        action = "timeout" if reason == "timeout" else "signout"
        cs = Changeset()
        cs.append("history", self._event(user.username, self._wall_now(now), action))
        self._commit(cs)

    def change_password(
        self,
        user: User,
        new_password: str,
        *,
        current: str | None = None,
        now: dt.datetime | None = None,
    ) -> None:
        """Change one's own password. ``current`` is required unless the account still has a
        one-time password (the forced change right after signing in with it). A wrong current
        password counts as a failed sign-in."""
        now = self._wall_now(now)
        name = user.username
        row = self.store.get_row("users", name)
        if not account_active(row):
            raise DomainError("err.unknown_user", username=name)
        assert row is not None
        stored = str(row.get("password_hash") or "")
        must = flag(row.get("must_change_password"), default=False)
        if current is not None or not must:
            self._check_wait(name, row, now)
            if not stored or not verify_password(current or "", stored):
                err = self._fail(name, row, now, "wrong_password", action="change_password_failed")
                if err.key == "err.signin_failed":
                    err = DomainError("err.password_wrong")
                raise err
            row = self.store.get_row("users", name) or row
        problem = password_problem(new_password, name, stored)
        if problem:
            raise DomainError(problem, min=MIN_PASSWORD_LENGTH)
        version = _int(row.get("version"))
        changes = {
            "password_hash": hash_password(new_password),
            "must_change_password": "FALSE",
            "failed_count": "0",
            "locked_until": "",
            "version": str(version + 1),
        }
        cs = Changeset()
        cs.updates.append(Update("users", name, changes, expected_version=version))
        cs.append(
            "history",
            self._history_row(
                user, now, "", "change_password", f"users.{name}.password_hash", "***", "***"
            ),
        )
        self._commit(cs)

    def reset_password(self, user: User, username: str, *, password: str | None = None) -> str:
        """An administrator gives ``username`` a new one-time password (returned; to be changed
        at the next sign-in) and lifts any wait after failed sign-ins."""
        require(user, "reset_password")
        if self.store.get_row("users", username) is None:
            raise DomainError("err.unknown_user", username=username)
        new = password or generate_password()
        values = {
            "username": username,
            "password_hash": hash_password(new),
            "must_change_password": True,
            "failed_count": 0,
            "locked_until": "",
        }
        self.upsert_row(user, "users", values, action="reset_password")
        return new

    def ensure_first_admin(
        self, *, password: str | None = None, username: str = "admin", email: str = ""
    ) -> str | None:
        """On a register without any account, create an administrator with a one-time
        password (``password``, else a generated one), to be changed at the first sign-in.
        Returns that password, or None when there were accounts already. Attributed in
        ``history`` to the local administrator (whoever started the server)."""
        with _BOOTSTRAP_LOCK:
            if len(self.store.read(["users"])["users"]):
                return None
            new = password or generate_password()
            self.save_user(
                LOCAL_ADMIN,
                username,
                role="admin",
                display_name="系统管理员",
                password=new,
                must_change_password=True,
                active=True,
                email=email or None,
            )
            return new

    def audit_choices(self, user: User) -> tuple[list[str], list[str]]:
        """The users and the actions found in the audit log ``user`` reads, for its filters:
        sorted, without the empty value. Administrators and supervisors only."""
        require(user, "audit")
        distinct = getattr(self.store, "history_choices", None)
        if distinct is not None and user.sees_all:
            return distinct()
        frame = self._audit_frame(user)
        return sorted(set(frame["user"]) - {""}), sorted(set(frame["action"]) - {""})

    def audit_page(
        self,
        user: User,
        *,
        limit: int | None = None,
        username: str | Sequence[str] | None = None,
        case_id: str | None = None,
        action: str | Sequence[str] | None = None,
        date_from: dt.date | str | None = None,
        date_to: dt.date | str | None = None,
    ) -> AuditPage:
        """The ``history`` rows, newest first (timestamp, then sheet row), filtered (user,
        case id — part of one is enough, in any case —, action, dates inclusive): the first
        ``limit`` of them (all when None) with personal data in old/new values masked as the
        user would see it on the case, and how many rows match. Administrators and
        supervisors only.

        A store that filters, orders and counts history itself (``history_page``: SQLite)
        returns just those rows; otherwise the whole sheet is read and filtered here, as it
        is for users who do not see every case (only the history of their cases)."""
        require(user, "audit")
        names, acts = _texts(username), _texts(action)
        part = (case_id or "").strip()
        day_from = _iso_day(date_from) if date_from else None
        day_to = _iso_day(date_to) if date_to else None
        query = getattr(self.store, "history_page", None)
        if query is not None and user.sees_all and _like_matches_as_python(part):
            total, rows = query(
                users=names,
                actions=acts,
                case_part=part or None,
                day_from=day_from,
                day_to=day_to,
                limit=limit,
            )
            rows = rows.astype(str)  # text columns, as the sheet read below gives them
        else:
            rows = self._audit_frame(user, names, acts, part, day_from, day_to)
            total = len(rows)
            if limit is not None:
                rows = rows.head(limit)
        rows = mask_history(
            user, rows.reset_index(drop=True), self.load().cases, self.schema["cases"]
        )
        return AuditPage(rows, int(total))

    def audit_log(self, user: User, *, limit: int | None = None, **filters: Any) -> pd.DataFrame:
        """The rows of :meth:`audit_page` (the first ``limit``, or all): ``history`` newest
        first, filtered, personal data masked. Administrators and supervisors only."""
        return self.audit_page(user, limit=limit, **filters).rows

    def _audit_frame(
        self,
        user: User,
        names: list[str] | None = None,
        acts: list[str] | None = None,
        part: str = "",
        day_from: str | None = None,
        day_to: str | None = None,
    ) -> pd.DataFrame:
        """The history rows ``user`` may audit, filtered and ordered as :meth:`audit_page`
        says, not yet masked: from the whole sheet (stores that cannot filter it)."""
        keys = self.schema["history"].keys
        frame = self.store.read(["history"])["history"]
        for k in keys:
            if k not in frame.columns:
                frame[k] = ""
        order = "_row" if "_row" in frame.columns else None
        frame = frame[[*keys, *([order] if order else [])]].fillna("").astype(str)
        if not user.sees_all:
            mine = set(visible_cases(user, self.load().cases)["case_id"])
            frame = frame[frame["case_id"].isin(mine)]
        if names:
            frame = frame[frame["user"].isin(names)]
        if part:
            frame = frame[frame["case_id"].str.contains(part, case=False, regex=False)]
        if acts:
            frame = frame[frame["action"].isin(acts)]
        day = frame["timestamp"].str.slice(0, 10)
        if day_from:
            frame = frame[day >= day_from]
            day = frame["timestamp"].str.slice(0, 10)
        if day_to:
            frame = frame[day <= day_to]
        if order:
            frame = frame.assign(_n=pd.to_numeric(frame[order], errors="coerce"))
            frame = frame.sort_values(["timestamp", "_n"], ascending=False, kind="stable")
        else:
            frame = frame.iloc[::-1].sort_values("timestamp", ascending=False, kind="stable")
        return frame[keys].reset_index(drop=True)

    def log_export(self, user: User, what: str, *, rows: int | None = None, note: str = "") -> None:
        """Record in ``history`` that ``user`` exported something that is not a sheet (a
        bulletin, a report, the digest): for downloads built from what the user already sees.
        Sheet exports are logged by :meth:`export_rows` itself."""
        require(user, "export")
        text = note or (f"{rows} rows" if rows is not None else "")
        cs = Changeset()
        cs.append("history", self._history_row(user, self.now(), "", "export", what, "", text))
        self._commit(cs)

    def export_audit(self, user: User, **filters: Any) -> pd.DataFrame:
        """:meth:`audit_log` for export: the same rows, and the export itself is logged."""
        frame = self.audit_log(user, **filters)
        self.log_export(user, "history", rows=len(frame))
        return frame


_BOOTSTRAP_LOCK = threading.Lock()


def _clean_name(text: Any, limit: int = 64) -> str:
    """A typed user name or email as history may record it: trimmed, printable, bounded."""
    s = "".join(c for c in str(text or "").strip() if c.isprintable())
    return s[:limit]


def _texts(value: str | Sequence[str] | None) -> list[str] | None:
    """One value or several as a list; None when there is none (no filter)."""
    if not value:
        return None
    return [value] if isinstance(value, str) else [str(v) for v in value] or None


def _like_matches_as_python(part: str) -> bool:
    """True when SQL's ``LIKE``, which ignores the case of ASCII letters only, finds what
    pandas' ``str.contains(part, case=False)`` finds: ``part`` has no letters with case
    beyond ASCII (else the register compares itself). Case ids are ASCII and Chinese; one
    holding a letter that upper-cases to ASCII (``ß``, ``ﬁ``) would differ."""
    return all(ch.isascii() or ch.upper() == ch == ch.lower() for ch in part)


def _iso_day(day: dt.date | str) -> str:
    return day.isoformat() if isinstance(day, dt.date) else parse_date(day).isoformat()


def _int(v: Any) -> int:
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return 0


def _need_reason(reason: str | None) -> None:
    if not str(reason or "").strip():
        raise DomainError("err.reason_required")


def _action_label(action: str) -> str:
    from lib.i18n import t

    return t("action." + action)


def _error_key(e: FieldError) -> tuple[str, str]:
    return (e.field, e.code)


def _error_keys(errors: Iterable[FieldError]) -> list[tuple[str, str]]:
    return [_error_key(e) for e in errors]


def _changed_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> set[str]:
    return {k for k in new if new.get(k) != old.get(k)}


def open_register(
    url: str | None = None, *, schema: Schema | None = None, init: bool = True, **kwargs: Any
) -> Register:
    """The register at ``url`` (see :func:`lib.store.open_store`), initialised and ready."""
    from lib.store import open_store

    store = open_store(url, schema=schema, init=init)
    reg = Register(store, schema=schema or getattr(store, "schema", None), **kwargs)
    if getattr(store, "change_token", None) is None:
        # A shared sheet tells no change token: reuse a read for the stale_seconds setting.
        try:
            reg.max_age_s = float(reg.meta().settings.get("stale_seconds") or 30)
        except ValueError:
            reg.max_age_s = 30.0
    return reg


__all__ = [
    "LOCAL_ADMIN",
    "AuditPage",
    "Register",
    "RegisterData",
    "ValidationError",
    "open_register",
]
