"""Text from the register shown safely in Streamlit markdown."""

from __future__ import annotations

import re

# Characters that start markup anywhere in a line (emphasis, links, HTML, tables, LaTeX,
# Streamlit's :color[...] directives).
_INLINE = re.compile(r"([\\`*_\[\]<>|~$])")
# Markup that only counts at the start of a line: headings, lists, quotes, numbered lists.
_LINE_START = re.compile(r"^(\s*)([#>+\-=])", re.MULTILINE)
_NUMBERED = re.compile(r"^(\s*\d+)([.)])", re.MULTILINE)


def md_escape(text: object) -> str:
    """``text`` as literal markdown: every markup character escaped, line breaks kept."""
    s = _INLINE.sub(r"\\\1", str(text))
    s = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), s)
    s = _NUMBERED.sub(lambda m: m.group(1) + "\\" + m.group(2), s)
    return s.replace("\n", "  \n")
