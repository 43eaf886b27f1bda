"""Shared page helpers of the portal: context, navigation, sidebar, tables, filters, actions.

Pages stay thin: ``ctx = page_setup("<page key>")`` gives the register, the acting user, the
language and this run's snapshot (``ctx.data``); the helpers here draw what it holds and call
the service layer (:mod:`lib.register`) for every change.
"""

from lib.ui import messages  # noqa: F401  (registers the portal's strings)
from lib.ui.context import Ctx
from lib.ui.shell import case_link, page_setup, run_page

__all__ = ["Ctx", "case_link", "page_setup", "run_page"]
