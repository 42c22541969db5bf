"""MkDocs hook for the documentation site: index expressions in docstrings such as ``x[i][j]`` are Markdown
reference links to the API pages' cross-referencer (mkdocs-autorefs), which would warn (and fail a strict
build) for targets "i", "j". Only dotted targets (``[LSTM][shendu.nn.LSTM]``) stay cross-references; the
others are put back as the literal text ``[i][j]``."""
from __future__ import annotations

import html
import re

_AUTOREF = re.compile(r"<autoref (?P<attrs>[^>]*?)>(?P<title>.*?)</autoref>", flags=re.DOTALL)
_IDENT = re.compile(r'identifier="(?P<id>[^"]*)"')


def _literal(m):
    ident = _IDENT.search(m.group("attrs"))
    if ident is None:
        return m.group(0)
    target = html.unescape(ident.group("id"))
    if "." in target and not target.startswith(".") and " " not in target and "[" not in target:
        return m.group(0)
    return f"[{m.group('title')}][{html.escape(target, quote=False)}]"


def on_page_content(html_text, page, config, files):  # noqa: ARG001
    if "<autoref" not in html_text:
        return html_text
    return _AUTOREF.sub(_literal, html_text)
