"""督办看板 Supervision board (SPEC §6): KPI tiles, overdue / due-soon / 不满意 / repeat /
批示件 lists and the units' league table for this week, month or quarter — refreshed on its
own every ``refresh_seconds`` — with supervision actions on a picked case and the daily digest
as text to copy. ``?wall=1`` shows it full-screen for a wall display (no sidebar, big tiles,
no forms); ``?unit=…&period=week|quarter`` choose what it shows.

The figures are those of :mod:`lib.ui.board` (the CLI's ``report`` for the same dates).
"""

from __future__ import annotations

import streamlit as st

from lib.ui import Ctx, board, page_setup, run_page


def page(c: Ctx) -> None:
    wall = board.wall_mode()
    if wall:
        board.wall_css()
    head, switch = st.columns([5, 1], vertical_alignment="center")
    with head:
        st.title(c.t("ui.nav.board"), anchor=False)
    with switch:
        if wall:
            if st.button(
                c.t("ov.wall.exit"), key="board.wall.exit", icon=":material/fullscreen_exit:"
            ):
                del st.query_params[board.WALL_PARAM]
                st.rerun()
        elif st.button(c.t("ov.wall.enter"), key="board.wall.enter", icon=":material/fullscreen:"):
            st.query_params[board.WALL_PARAM] = "1"
            st.rerun()
    unit, kind = board.controls(c)
    board.live(c, unit, kind, wall)
    if wall:
        return
    st.divider()
    board.action_panel(c, unit, kind)
    board.digest(c, unit)


run_page(page_setup("board"), page)
