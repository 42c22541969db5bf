"""Keep the ``file.py:line`` citations of docs/coverage.md pointing at their symbols.

Each citation follows a backticked symbol in the same cell, e.g. ``F.mse_loss`` loss.py:47. The symbol's last name
(``mse_loss``) is looked up as ``def``/``class``/assignment, first in the cited file, then anywhere under
src/shendu (when it is defined in exactly one file), and the citation is rewritten to the line found. Files that are
split or functions that move therefore only need ``python tools/coverage_lines.py`` afterwards.

``python tools/coverage_lines.py``          rewrite docs/coverage.md in place, print what it could not place
``python tools/coverage_lines.py --check``  exit 1 if any citation is stale (the test suite runs this check)
"""
from __future__ import annotations

import re
import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "shendu"
DOC = ROOT / "docs" / "coverage.md"
CITE = re.compile(r"`([^`]+)`([^`|]*?)(?:\b([\w/]+\.py)|(?<=\s)):(\d+)")


@lru_cache(maxsize=None)
def _files() -> tuple[Path, ...]:
    return tuple(sorted(SRC.rglob("*.py")))


@lru_cache(maxsize=None)
def _lines(path: Path) -> tuple[str, ...]:
    return tuple(path.read_text(encoding="utf-8").splitlines())


def _resolve(cited: str) -> list[Path]:
    """Source files whose path under src/shendu ends with ``cited``."""
    return [p for p in _files() if p.relative_to(SRC).as_posix() == cited
            or p.relative_to(SRC).as_posix().endswith("/" + cited)]


def _name(symbol: str) -> str | None:
    """The identifier a definition would carry: ``F.mse_loss`` -> ``mse_loss``, ``DBN(sizes)`` -> ``DBN``."""
    symbol = symbol.split("(")[0].split("[")[0].strip()
    parts = re.findall(r"[A-Za-z_]\w*", symbol)
    return parts[-1] if parts else None


def _definition(path: Path, name: str) -> int | None:
    pat = re.compile(rf"^\s*(?:async\s+)?(?:def|class)\s+{re.escape(name)}\b|^\s*{re.escape(name)}\s*(?::[^=]*)?=")
    for i, line in enumerate(_lines(path), 1):
        if pat.match(line):
            return i
    return None


def _preferences(symbol: str, cited: str):
    """Tie-breakers when a name is defined in several files, in order: the package that replaced the cited
    file (a split module), the file defining the qualifying class (``TrialContext.report``), the cited file's
    folder, module-level definitions over methods."""
    rel = "/" + cited[:-3]
    quals = re.findall(r"[A-Za-z_]\w*", symbol.split("(")[0])[:-1]
    cls = quals[-1] if quals and quals[-1][0].isupper() else None
    yield lambda p, n: ("/" + p.relative_to(SRC).as_posix()).rsplit("/", 1)[0].endswith(rel)
    if cls:
        yield lambda p, n: _definition(p, cls) is not None
    folder = cited.rsplit("/", 1)[0] if "/" in cited else None
    if folder:
        yield lambda p, n: p.relative_to(SRC).as_posix().startswith(folder + "/")
    yield lambda p, n: not _lines(p)[n - 1].startswith((" ", "\t"))


def _place(symbol: str, cited: str, line: int) -> tuple[str, int] | None:
    """The (file, line) a citation should read, or None when it cannot be placed."""
    name = _name(symbol)
    if name is None:
        return None
    candidates = _resolve(cited)
    for path in candidates:
        found = _definition(path, name)
        if found is not None:
            return cited, found
    elsewhere = [(p, n) for p in _files() for n in [_definition(p, name)] if n is not None]
    for prefer in _preferences(symbol, cited):
        if len(elsewhere) > 1:
            elsewhere = [pn for pn in elsewhere if prefer(*pn)] or elsewhere
    if len(elsewhere) == 1:
        path, found = elsewhere[0]
        return path.relative_to(SRC).as_posix(), found
    if candidates and len(_lines(candidates[0])) >= line:
        return cited, line          # module-level item without a def (e.g. a constant table): keep it
    return None


def rewrite(text: str) -> tuple[str, list[str]]:
    """The document with every placeable citation corrected, and the citations that could not be placed.

    A bare ``:N`` after a symbol refers to the file cited last in the same row."""
    lost: list[str] = []
    out = []
    for row in text.split("\n"):
        last = [None]

        def fix(m: re.Match) -> str:
            symbol, between, cited, line = m.group(1), m.group(2), m.group(3), int(m.group(4))
            short = cited is None
            cited = cited or last[0]
            if cited is None:
                return m.group(0)
            placed = _place(symbol, cited, line)
            if placed is None:
                lost.append(f"`{symbol}` {cited}:{line}")
                last[0] = cited
                return m.group(0)
            last[0] = placed[0]
            if short and placed[0] == cited:
                return f"`{symbol}`{between}:{placed[1]}"
            return f"`{symbol}`{between}{placed[0]}:{placed[1]}"

        out.append(CITE.sub(fix, row))
    return "\n".join(out), lost


def main(argv: list[str]) -> int:
    text = DOC.read_text(encoding="utf-8")
    new, lost = rewrite(text)
    for item in lost:
        print("cannot place:", item)
    if "--check" in argv:
        if new != text:
            print("stale citations; run: python tools/coverage_lines.py")
        return int(new != text or bool(lost))
    if new != text:
        DOC.write_text(new, encoding="utf-8")
        print("rewrote", DOC.relative_to(ROOT))
    return int(bool(lost))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
