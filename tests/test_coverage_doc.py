"""docs/coverage.md: its counts table agrees with its rows (tools/coverage_counts.py), and every DONE row names a
test that exists in this repository."""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import coverage_counts  # noqa: E402


def test_counts_table_is_current():
    text = coverage_counts.DOC.read_text(encoding="utf-8")
    assert coverage_counts.rewrite(text) == text, "run: python tools/coverage_counts.py"


def test_counts_recount_a_small_table():
    doc = ("## Chapter 7: x\n\n| # | Item | Symbol | Test | Status | Notes |\n|---|---|---|---|---|---|\n"
           "| 7.1 | a | b | c | DONE | |\n| 7.2 | a \\| b | b | c | MISSING | [not in text] |\n"
           "| 7.3 | a | b | c | n/a | |\n\n| # | Vector | Where | Status | Notes |\n|---|---|---|---|---|\n"
           "| W7.1 | v | t | PARTIAL | |\n")
    c = coverage_counts.count(doc)["Ch 7 Regularization"]
    assert c == {"cap": [1, 0, 1], "worked": [0, 1, 0], "not_in_text": 1, "na": 1}


def test_done_rows_name_test_files_that_exist():
    """A DONE row's test cell names files (``dir/test_x.py::name``) that exist under tests/."""
    missing = []
    for line in coverage_counts.DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|") or "| DONE |" not in line:
            continue
        for path in re.findall(r"([\w/]+/test_\w+\.py)", line):
            if not (ROOT / "tests" / path).exists() and not (ROOT / path).exists():
                missing.append((line.split("|")[1].strip(), path))
    assert not missing, f"DONE rows naming test files that do not exist: {missing[:20]}"


def test_source_citations_point_at_their_symbols():
    """Every ``file.py:line`` in docs/coverage.md is the line that defines the symbol cited before it."""
    import coverage_lines

    text = coverage_lines.DOC.read_text(encoding="utf-8")
    new, lost = coverage_lines.rewrite(text)
    assert not lost, f"citations naming symbols that cannot be found: {lost[:10]}"
    assert new == text, "stale file:line citations; run: python tools/coverage_lines.py"
