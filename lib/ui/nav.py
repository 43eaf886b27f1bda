"""The portal's pages and who may use them: one table, read by the entry script and the pages.

A page appears in the navigation when its file exists and the user's role is listed. To add a
page, create its file under ``pages/`` and give it a row here (or edit the row that waits for
it); nothing else changes. Pages check the same table again when they run, so a page opened
some other way still refuses a role it is not for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from lib.auth import ROLES
from lib.i18n import t

ROOT = Path(__file__).resolve().parent.parent.parent
ALL = frozenset(ROLES)
BUREAU = frozenset({"admin", "clerk", "supervisor", "leader"})
AUDITORS = frozenset({"admin", "supervisor"})


@dataclass(frozen=True)
class PageSpec:
    """One page: its key, file, title, icon, section and roles."""

    key: str
    path: str
    title: str  # message key
    icon: str
    section: str  # message key
    roles: frozenset[str]
    default_for: frozenset[str] = frozenset()

    def exists(self) -> bool:
        """True when the page's file is there."""
        return (ROOT / self.path).is_file()

    @property
    def url_path(self) -> str:
        """The page's address: its file name (``/case_detail``).

        Deliberately the file's stem: on the first request after a server start Streamlit
        may still treat ``pages/`` as an old-style pages folder, and then only addresses
        equal to file stems are found (see :func:`lib.ui.context.take_ctx`).
        """
        return Path(self.path).stem


PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        "intake",
        "pages/intake.py",
        "ui.nav.intake",
        ":material/edit_note:",
        "ui.nav.work",
        frozenset({"admin", "clerk"}),
        default_for=frozenset({"clerk"}),
    ),
    PageSpec(
        "tracking",
        "pages/tracking.py",
        "ui.nav.tracking",
        ":material/assignment:",
        "ui.nav.work",
        ALL,
        default_for=frozenset({"admin", "handler"}),
    ),
    PageSpec(
        "case",
        "pages/case_detail.py",
        "ui.nav.case",
        ":material/description:",
        "ui.nav.work",
        ALL,
    ),
    PageSpec(
        "reports",
        "pages/reports.py",
        "ui.nav.reports",
        ":material/summarize:",
        "ui.nav.oversight",
        BUREAU,
    ),
    PageSpec(
        "board",
        "pages/board.py",
        "ui.nav.board",
        ":material/monitoring:",
        "ui.nav.oversight",
        BUREAU,
        default_for=frozenset({"supervisor", "leader"}),
    ),
    PageSpec(
        "satisfaction",
        "pages/satisfaction.py",
        "ui.nav.satisfaction",
        ":material/sentiment_satisfied:",
        "ui.nav.oversight",
        BUREAU,
    ),
    PageSpec(
        "admin",
        "pages/admin.py",
        "ui.nav.admin",
        ":material/settings:",
        "ui.nav.manage",
        frozenset({"admin"}),
    ),
    PageSpec(
        "audit",
        "pages/audit.py",
        "ui.nav.audit",
        ":material/policy:",
        "ui.nav.manage",
        AUDITORS,
    ),
    PageSpec(
        "account",
        "pages/account.py",
        "ui.nav.account",
        ":material/account_circle:",
        "ui.nav.me",
        ALL,
    ),
)
BY_KEY = {p.key: p for p in PAGES}


def pages_for(role: str) -> list[PageSpec]:
    """The pages this role may use whose files exist, in table order."""
    return [p for p in PAGES if role in p.roles and p.exists()]


def may_open(role: str, key: str) -> bool:
    """True when this role may use the page ``key``."""
    spec = BY_KEY.get(key)
    return spec is not None and role in spec.roles


def start_page(role: str) -> PageSpec | None:
    """The page a role starts on."""
    specs = pages_for(role)
    return next((p for p in specs if role in p.default_for), specs[0] if specs else None)


def navigation(role: str, lang: str):
    """Build ``st.navigation`` for this role (sections by the table) and return the page.

    Streamlit serves its default page at ``/`` only, not at its own path, so a role-dependent
    default would make a shared ``/tracking?…`` link "not found" for the roles that start
    there. The default is therefore a hidden page that sends each role to its start page, and
    every real page keeps its own address for everyone.
    """
    specs = pages_for(role)
    start = start_page(role)

    def home() -> None:
        if start is not None:
            st.switch_page(start.path)

    sections: dict[str, list] = {}
    for p in specs:
        page = st.Page(p.path, title=t(p.title, lang), icon=p.icon, url_path=p.url_path)
        sections.setdefault(t(p.section, lang), []).append(page)
    home_page = st.Page(
        home, title=t("ui.app_title", lang), url_path="home", default=True, visibility="hidden"
    )
    first = next(iter(sections.values()), None)
    if first is None:
        sections[""] = [home_page]
    else:
        first.insert(0, home_page)
    return st.navigation(sections)


def gate_navigation(draw: Callable[[], None], lang: str):
    """Navigation for a run nobody may pass yet (sign-in, or a forced password change).

    Every page's address answers with ``draw``, hidden from the menu: the address someone
    opened — a page, a shared ``?case=…`` link, a bookmarked filter — stays as it is, and once
    they are through, the same address shows the real page (pages are identified by their
    address).
    """
    title = t("ui.signin.title", lang)
    pages = [st.Page(draw, title=title, url_path="home", default=True)]
    pages += [
        st.Page(draw, title=f"{t(p.title, lang)} · {title}", url_path=p.url_path)
        for p in PAGES
        if p.exists()
    ]
    return st.navigation(pages, position="hidden")


def page_path(key: str) -> str:
    """The file of the page ``key`` (for ``st.switch_page`` and ``st.page_link``)."""
    return BY_KEY[key].path
