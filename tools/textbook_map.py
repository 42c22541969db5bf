"""The textbook map: every "Textbook N.N" citation in shendu's docstrings -> the module and symbol citing it.

Scans src/shendu/**/*.py with ``ast`` (nothing is imported) for citations such as "Textbook 8.5.3",
"textbook 10.2 (RNNs), 10.3", "Textbook 8.3.1-8.3.3" in module, class, function and method docstrings,
and writes a Markdown page grouped by chapter. So the map is generated from the code and cannot drift.

    python tools/textbook_map.py              # print the page
    python tools/textbook_map.py --out FILE   # write it

Also a MkDocs hook (``hooks: [tools/textbook_map.py]`` in mkdocs.yml): ``on_files`` adds the page
``textbook_map.md`` to the site at build time.
"""
from __future__ import annotations

import argparse
import ast
import os
import re
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
PAGE = "textbook_map.md"

CHAPTERS = {
    2: "Linear algebra", 3: "Probability and information theory", 4: "Numerical computation",
    5: "Machine learning basics", 6: "Deep feedforward networks", 7: "Regularization for deep learning",
    8: "Optimization for training deep models", 9: "Convolutional networks",
    10: "Sequence modeling: recurrent and recursive nets", 11: "Practical methodology", 12: "Applications",
    13: "Linear factor models", 14: "Autoencoders", 15: "Representation learning",
    16: "Structured probabilistic models", 17: "Monte Carlo methods", 18: "Confronting the partition function",
    19: "Approximate inference", 20: "Deep generative models",
}

_CITE = re.compile(r"\btextbook\b", re.I)
_SEC = re.compile(r"\s*(\d{1,2}(?:\.\d+)+)(?!\d)")
_PAREN = re.compile(r"\s*\([^()]*\)")
_SEP = re.compile(r"\s*(?:,|;|/|-|–|and|to)\s*")


def sections_in(text: str) -> list[str]:
    """Section numbers cited in ``text``: each "textbook" followed by a chain of N.N numbers
    (with optional parenthesised notes and separators , ; / - and)."""
    found = []
    for m in _CITE.finditer(text):
        pos = m.end()
        while True:
            s = _SEC.match(text, pos)
            if not s:
                break
            found.append(s.group(1))
            pos = s.end()
            p = _PAREN.match(text, pos)
            if p:
                pos = p.end()
            sep = _SEP.match(text, pos)
            if not sep or not _SEC.match(text, sep.end()):
                break
            pos = sep.end()
    return found


def _key(sec: str):
    return tuple(int(p) for p in sec.split("."))


def collect(src: str = SRC) -> dict:
    """section -> sorted list of (symbol, path relative to src/, line)."""
    out = defaultdict(set)
    pkg_root = os.path.join(src, "shendu")
    for dirpath, dirnames, filenames in os.walk(pkg_root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__pycache__")))
        for fn in sorted(filenames):
            if not fn.endswith(".py"):
                continue
            path = os.path.join(dirpath, fn)
            rel = os.path.relpath(path, src).replace(os.sep, "/")
            mod = rel[:-3].replace("/", ".")
            if mod.endswith(".__init__"):
                mod = mod[: -len(".__init__")]
            with open(path, encoding="utf-8") as fh:
                try:
                    tree = ast.parse(fh.read(), filename=path)
                except SyntaxError:
                    continue

            def visit(node, qual):
                doc = ast.get_docstring(node, clean=False)
                if doc:
                    line = getattr(node, "lineno", 1)
                    for sec in sections_in(doc):
                        out[sec].add((qual, rel, line))
                for child in getattr(node, "body", []):
                    if isinstance(child, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                        visit(child, f"{qual}.{child.name}")

            visit(tree, mod)
    return {k: sorted(v) for k, v in sorted(out.items(), key=lambda kv: _key(kv[0]))}


def render(entries: dict) -> str:
    """The Markdown page for ``collect()``'s result."""
    n_sym = len({s for v in entries.values() for s, _, _ in v})
    lines = [
        "# Textbook map",
        "",
        "Every section of the books cited in shendu's docstrings, and the module or symbol citing it. "
        "Generated from the code by `tools/textbook_map.py` at each build of this site, so it follows the code. "
        f"{len(entries)} sections, {n_sym} symbols.",
        "",
        "For the audit of every item of the textbooks (with the test that checks it) see the "
        "[coverage page](coverage.md).",
        "",
    ]
    by_ch = defaultdict(list)
    for sec, syms in entries.items():
        by_ch[_key(sec)[0]].append((sec, syms))
    for ch in sorted(by_ch):
        title = CHAPTERS.get(ch, "")
        lines += [f"## {ch}. {title}".rstrip(), "", "| section | implemented in |", "|---|---|"]
        for sec, syms in by_ch[ch]:
            cells = "<br>".join(f"`{s}` ({p}:{ln})" for s, p, ln in syms)
            lines.append(f"| {sec} | {cells} |")
        lines.append("")
    return "\n".join(lines)


def on_files(files, config):  # MkDocs hook: add the generated page
    from mkdocs.structure.files import File

    files.append(File.generated(config, PAGE, content=render(collect())))
    return files


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="write the page here instead of printing it")
    args = ap.parse_args(argv)
    text = render(collect())
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
