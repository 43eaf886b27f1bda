"""Retries for Google Sheets API calls: capped exponential backoff with jitter, in a time budget.

Google answers a busy or failing request with 429 (quota: 60 reads and 60 writes a minute per
user), 5xx, or not at all (a timeout, a dropped connection). Each store operation gets one
:class:`Budget` (default 30 s); every call inside it is retried after a random wait of up to
``min(cap, base * 2**attempt)`` seconds ("full jitter", so colleagues who hit the quota together
do not retry together), and ``Retry-After`` is honoured. When the next wait would overrun the
budget, :class:`RetryExhausted` says what happened, and the store turns it into a message for
people. Nothing here retries forever (unlike gspread's ``BackOffHTTPClient``, whose counter also
lives on the shared client and is not thread-safe).

Writes need more care than reads. A 429 means Google refused the request, so it is simply sent
again. A timeout, a dropped connection or a 5xx may come *after* Google applied the write; then
the caller's ``on_retry`` hook looks at the sheet first and says whether the write already
landed (so an append is never duplicated) — see :func:`run`.

The per-call timeout is the smaller of ``call_timeout_s`` and what is left of the budget; it is
kept in a thread-local so that one shared client serves many threads (Streamlit sessions).
"""

from __future__ import annotations

import contextlib
import enum
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import requests
from gspread.exceptions import APIError

T = TypeVar("T")

#: HTTP statuses worth another try. 429 = quota; 408/5xx = Google (or a proxy) had trouble.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: 403 reasons that are really rate limits (older Google APIs answer 403 for these).
RATE_LIMIT_REASONS = frozenset(
    {"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"}
)


class Fault(enum.Enum):
    """How a failed call may have left the spreadsheet."""

    NOT_APPLIED = "not_applied"  # refused before doing anything (429, connect failure)
    MAYBE_APPLIED = "maybe_applied"  # timeout, dropped connection, 5xx: may have been applied


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how to retry. ``sleep``/``clock``/``rng`` can be replaced in tests."""

    budget_s: float = 30.0
    base_s: float = 0.5
    cap_s: float = 8.0
    call_timeout_s: float = 20.0
    connect_timeout_s: float = 5.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    rng: Callable[[], float] = field(default=random.random, repr=False)

    def budget(self) -> Budget:
        """A fresh budget for one store operation."""
        return Budget(self)


class RetryExhausted(Exception):
    """The budget ran out. ``last`` is the last error; ``unsure`` when a write may have landed."""

    def __init__(
        self, what: str, attempts: int, elapsed: float, last: BaseException, *, unsure: bool
    ) -> None:
        super().__init__(f"{what}: gave up after {attempts} attempts in {elapsed:.1f}s: {last!r}")
        self.what, self.attempts, self.elapsed, self.last, self.unsure = (
            what,
            attempts,
            elapsed,
            last,
            unsure,
        )

    @property
    def quota(self) -> bool:
        """True when the last answer was a quota refusal (429)."""
        return status_of(self.last) == 429


class Budget:
    """The time one store operation may spend, retries included."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.started = policy.clock()
        self.deadline = self.started + policy.budget_s
        self.attempts = 0

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.deadline - self.policy.clock())

    def elapsed(self) -> float:
        """Seconds spent so far."""
        return self.policy.clock() - self.started

    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` timeout for the next call: capped by what is left."""
        left = max(self.remaining(), 0.05)
        p = self.policy
        return (min(p.connect_timeout_s, left), min(p.call_timeout_s, left))

    def backoff(self, attempt: int, retry_after: float | None = None) -> float | None:
        """The wait before retry number ``attempt`` (1, 2, …), or None when it would not fit."""
        p = self.policy
        delay = p.rng() * min(p.cap_s, p.base_s * (2 ** (attempt - 1)))
        if retry_after is not None:
            delay = max(delay, min(retry_after, p.cap_s))
        if p.clock() + delay >= self.deadline:
            return None
        return delay


_local = threading.local()


def current_timeout() -> tuple[float, float] | None:
    """The timeout the running call on this thread should use (None outside :func:`run`)."""
    return getattr(_local, "timeout", None)


@contextlib.contextmanager
def _timeout_scope(timeout: tuple[float, float]) -> Iterator[None]:
    previous = getattr(_local, "timeout", None)
    _local.timeout = timeout
    try:
        yield
    finally:
        _local.timeout = previous


def status_of(exc: BaseException | None) -> int | None:
    """The HTTP status of a gspread ``APIError`` (None for other errors)."""
    if isinstance(exc, APIError):
        try:
            return int(exc.code)
        except (TypeError, ValueError):
            return getattr(exc.response, "status_code", None)
    return None


def _reasons(exc: APIError) -> set[str]:
    err = exc.error if isinstance(getattr(exc, "error", None), dict) else {}
    out = {str(e.get("reason")) for e in err.get("errors", []) if isinstance(e, dict)}
    out |= {str(d.get("reason")) for d in err.get("details", []) if isinstance(d, dict)}
    return out


def classify(exc: BaseException) -> Fault | None:
    """Whether ``exc`` is worth a retry, and whether the request may have been applied."""
    status = status_of(exc)
    if status is not None:
        if status == 429:
            return Fault.NOT_APPLIED
        if status == 403 and isinstance(exc, APIError) and _reasons(exc) & RATE_LIMIT_REASONS:
            return Fault.NOT_APPLIED
        if status in RETRY_STATUSES:
            return Fault.MAYBE_APPLIED
        return None
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return Fault.NOT_APPLIED  # never reached Google
    if isinstance(
        exc,
        requests.exceptions.Timeout
        | requests.exceptions.ConnectionError
        | requests.exceptions.ChunkedEncodingError,
    ):
        return Fault.MAYBE_APPLIED
    try:
        from google.auth.exceptions import TransportError
    except ImportError:  # pragma: no cover - google-auth is a gspread dependency
        return None
    if isinstance(exc, TransportError):
        return Fault.NOT_APPLIED  # fetching a token failed; the API call was not made
    return None


def retry_after(exc: BaseException) -> float | None:
    """Seconds from a ``Retry-After`` header, when Google sent one."""
    response = getattr(exc, "response", None)
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def run(
    call: Callable[[], T],
    budget: Budget,
    what: str,
    *,
    on_retry: Callable[[Fault], bool] | None = None,
    write: bool = False,
) -> T | None:
    """Call ``call()`` until it succeeds, a non-retryable error occurs, or the budget ends.

    ``on_retry(fault)`` runs before each new attempt (after the wait). It may refresh what
    ``call`` will send (row numbers after people sorted the sheet) and returns True when it
    found that the failed write had in fact landed: then :func:`run` stops and returns None.
    Errors from ``on_retry`` propagate (a conflict it discovers ends the operation).
    ``write`` marks a call that changes the sheet: when the budget runs out after a failure
    that may have been applied, :class:`RetryExhausted` says ``unsure``.
    """
    attempt = 0
    maybe_applied = False
    while True:
        budget.attempts += 1
        try:
            with _timeout_scope(budget.timeout()):
                return call()
        except Exception as exc:
            fault = classify(exc)
            if fault is None:
                raise
            attempt += 1
            maybe_applied = write and (maybe_applied or fault is Fault.MAYBE_APPLIED)
            delay = budget.backoff(attempt, retry_after(exc))
            if delay is None:
                raise RetryExhausted(
                    what, attempt, budget.elapsed(), exc, unsure=maybe_applied
                ) from exc
            budget.policy.sleep(delay)
            if on_retry is not None:
                try:
                    landed = on_retry(fault)
                except RetryExhausted as inner:
                    raise RetryExhausted(
                        what, attempt, budget.elapsed(), inner.last, unsure=maybe_applied
                    ) from exc
                if landed:
                    return None
                maybe_applied = False  # checked: the failed write is not in the sheet
