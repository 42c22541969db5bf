"""Recount the "Counts per chapter" table of docs/coverage.md from the row tables above it.

    python tools/coverage_counts.py          # rewrite the table in place
    python tools/coverage_counts.py --check  # exit 1 if the table is stale (tests/test_coverage_doc.py runs this)

A row is a table line whose first cell is an item id (``7.12``, ``W7.2``, ``T3.4``, ``R.1``); its status is the
cell under the header "Status" (DONE / PARTIAL / MISSING; ``n/a`` rows are listed but not counted). Rows whose
id starts with "W" are worked examples; "[not in text]" in a MISSING row is counted separately as well.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "coverage.md"
STATUSES = ("DONE", "PARTIAL", "MISSING")
_SECTIONS = [  # (heading prefix, label in the table)
    ("## Chapter 6", "Ch 6 Feedforward"), ("## Chapter 7", "Ch 7 Regularization"),
    ("## Chapter 8", "Ch 8 Optimization"), ("## Chapter 9", "Ch 9 CNN"), ("## Chapter 10", "Ch 10 Sequence models"),
    ("## Chapter 11", "Ch 11 Methodology"), ("## Chapter 12", "Ch 12 Applications"), ("## Text 001", "Text 001"),
    ("## Text 002", "Text 002"), ("## Text 003", "Text 003"), ("## Text 004", "Text 004"),
    ("## RBM", "RBM/DBN/AE"),
]
_ID = re.compile(r"^(W?\d+(\.\d+)*[a-z]?|[A-Z]+\d*\.\d+)$")


def _cells(line):
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def count(text):
    """{label: {"cap": [d, p, m], "worked": [d, p, m], "not_in_text": k, "na": k}} from the document text."""
    out, label, status_col = {}, None, None
    for line in text.splitlines():
        if line.startswith("## "):
            label = next((lab for pre, lab in _SECTIONS if line.startswith(pre)), None)
            if label:
                out[label] = {"cap": [0, 0, 0], "worked": [0, 0, 0], "not_in_text": 0, "na": 0}
            continue
        if label is None or not line.startswith("|"):
            continue
        cells = _cells(line)
        if "Status" in cells:
            status_col = cells.index("Status")
            continue
        if status_col is None or not _ID.match(cells[0]) or len(cells) <= status_col:
            continue
        status = cells[status_col].strip("* ")
        rec = out[label]
        if status.lower() == "n/a":
            rec["na"] += 1
        elif status in STATUSES:
            rec["worked" if cells[0].startswith("W") else "cap"][STATUSES.index(status)] += 1
            if status == "MISSING" and "[not in text]" in line:
                rec["not_in_text"] += 1
    return out


def _fmt(v):
    return " / ".join(str(x) for x in v)


def table(counts):
    head = ("| Section | Capabilities DONE / PARTIAL / MISSING | Worked examples DONE / PARTIAL / MISSING | "
            "All counted items DONE / PARTIAL / MISSING | of which [not in text] (MISSING) | n/a (not counted) |\n"
            "|---|---|---|---|---|---|\n")
    rows, tot = [], {"cap": [0, 0, 0], "worked": [0, 0, 0], "not_in_text": 0, "na": 0}
    for _, label in _SECTIONS:
        r = counts.get(label)
        if r is None:
            continue
        allv = [a + b for a, b in zip(r["cap"], r["worked"])]
        pct = round(100 * allv[0] / max(1, sum(allv)))
        worked = _fmt(r["worked"]) if sum(r["worked"]) else "—"
        rows.append(f"| {label} | {_fmt(r['cap'])} | {worked} | **{_fmt(allv)}** ({pct}% done) | "
                    f"{r['not_in_text']} | {r['na']} |")
        for k in ("cap", "worked"):
            tot[k] = [a + b for a, b in zip(tot[k], r[k])]
        tot["not_in_text"] += r["not_in_text"]
        tot["na"] += r["na"]
    allv = [a + b for a, b in zip(tot["cap"], tot["worked"])]
    pct = round(100 * allv[0] / max(1, sum(allv)))
    rows.append(f"| **Total** | {_fmt(tot['cap'])} | {_fmt(tot['worked'])} | **{_fmt(allv)}** ({pct}% done) | "
                f"{tot['not_in_text']} | {tot['na']} |")
    return head + "\n".join(rows) + "\n"


def rewrite(text):
    """The document with its counts table replaced by a fresh count."""
    start = text.index("| Section | Capabilities")
    end = text.index("\n\n", start) + 1
    return text[:start] + table(count(text)) + text[end:]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the counts table is stale")
    args = ap.parse_args(argv)
    text = DOC.read_text(encoding="utf-8")
    new = rewrite(text)
    if args.check:
        if new != text:
            print("docs/coverage.md: the counts table is stale; run python tools/coverage_counts.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    print(table(count(new)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
