"""Faults aimed at one request: "drop the append to 案件 after Google applied it".

The emulator's own ``inject`` picks requests by endpoint (``values.append``); an intake makes
three appends (the id claim, the case, its history), so these tests need finer aim. A
:class:`Aim` matches requests by method and by text in the decoded URL (a sheet title) and acts
on the next ``times`` of them; :func:`aimed_session` is an emulator session that obeys a list
of them, in process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import requests

from tests.fakes.sheets_emulator import SheetsEmulator
from tests.fakes.sheets_model import ApiError
from tests.fakes.sheets_transport import EmulatorAdapter, Reply, build_response, mount_google


@dataclass
class Aim:
    """Do ``fault`` to the next ``times`` requests with ``method`` whose URL contains ``text``.

    ``fault``: ``"drop"`` (never reaches Google), ``"apply_then_drop"`` (applied, answer lost),
    ``"timeout"`` (applied, the answer comes too late), an HTTP status (not applied), or None
    (sent normally). ``before`` runs just before the request is handled (another process
    writes first); ``then`` runs once when the aim is used up (a person sorts meanwhile).
    """

    method: str
    text: str
    fault: str | int | None
    times: int = 1
    then: Callable[[], Any] | None = None
    before: Callable[[], Any] | None = None
    hits: int = field(default=0, init=False)

    def matches(self, request: requests.PreparedRequest) -> bool:
        return (
            self.times > 0
            and request.method == self.method
            and self.text in unquote(request.url or "")
        )


class AimedAdapter(EmulatorAdapter):
    def __init__(self, emulator: SheetsEmulator, aims: list[Aim]) -> None:
        super().__init__(emulator)
        self.aims = aims

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        aim = next((a for a in self.aims if a.matches(request)), None)
        if aim is None:
            return super().send(request, **kwargs)
        aim.times -= 1
        aim.hits += 1
        if aim.before is not None:
            aim.before()
        try:
            if aim.fault is None:
                return super().send(request, **kwargs)
            if aim.fault == "drop":
                raise requests.exceptions.ConnectionError("aimed drop", request=request)
            if isinstance(aim.fault, int):
                return build_response(request, Reply(aim.fault, ApiError(aim.fault).body()), self)
            super().send(request, **kwargs)
            if aim.fault == "timeout":
                raise requests.exceptions.ReadTimeout("aimed timeout", request=request)
            raise requests.exceptions.ConnectionError("aimed apply_then_drop", request=request)
        finally:
            if aim.times == 0 and aim.then is not None:
                then, aim.then = aim.then, None
                then()


def aimed_session(emulator: SheetsEmulator, *aims: Aim) -> requests.Session:
    """A session on the emulator that plays ``aims``."""
    session = requests.Session()
    session.trust_env = False
    return mount_google(session, AimedAdapter(emulator, list(aims)))
