"""Shared page helpers of the portal: context, navigation, sidebar, tables, filters, actions.

Pages stay thin. A page file looks like::

    from lib.ui import Ctx, page_setup, run_page

    def page(c: Ctx) -> None:
        st.title(c.t("ui.nav.board"))
        ...  # draw c.data (this run's snapshot, already filtered and masked for c.user)

    run_page(page_setup("board"), page)

``page_setup`` checks the page's row in :data:`lib.ui.nav.PAGES` against the user's role and
draws the sidebar; ``run_page`` turns an unexpected error into a message in the user's
language. Every change goes through the service layer (``c.reg``, :mod:`lib.register`).
Other helpers: :mod:`~lib.ui.tables` (column_config from the schema, due-date colours,
export), :mod:`~lib.ui.filters` (filters kept in the address), :mod:`~lib.ui.actions` (the
next actions on a case), :mod:`~lib.ui.forms` (forms generated from the schema),
:mod:`~lib.ui.errors`, :mod:`~lib.ui.text`. Strings: :mod:`~lib.ui.messages`.
"""

from lib.ui import messages  # noqa: F401  (registers the portal's strings)
from lib.ui.context import Ctx
from lib.ui.shell import case_link, page_setup, run_page

__all__ = ["Ctx", "case_link", "page_setup", "run_page"]
