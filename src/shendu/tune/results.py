"""Search results: a printed table, a CSV and PNG plots (optimization history, parameter importance, slices)."""
from __future__ import annotations

import csv
import io
import math
import os

__all__ = ["trials_table", "write_csv", "plot_history", "plot_importance", "plot_slices", "write_report",
           "best_summary"]


def _rows(study):
    from optuna.trial import TrialState

    params = sorted({k for t in study.trials for k in t.params})
    rows = []
    for t in study.trials:
        if t.state == TrialState.WAITING:
            continue
        steps = max(t.intermediate_values) + 1 if t.intermediate_values else 0
        secs = (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete and t.datetime_start \
            else None
        row = {"number": t.number, "state": t.state.name, "value": t.value, "steps": steps, "seconds": secs}
        for k in params:
            row[k] = t.user_attrs.get(k, t.params.get(k)) if isinstance(t.user_attrs.get(k), bool) else t.params.get(k)
        if t.user_attrs.get("thaw_of") is not None:
            row["thaw_of"] = t.user_attrs["thaw_of"]
        rows.append(row)
    return rows, params


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}" if math.isfinite(v) else str(v)
    return str(v)


def trials_table(study, max_rows=50):
    """The trials as a text table (number, state, value, steps reported, seconds, parameters), best first."""
    rows, params = _rows(study)
    sign = 1 if study.direction.name == "MINIMIZE" else -1
    rows.sort(key=lambda r: (r["value"] is None, sign * (r["value"] if r["value"] is not None else 0)))
    cols = ["number", "state", "value", "steps", "seconds"] + params
    cells = [[_fmt(r.get(c)) for c in cols] for r in rows[:max_rows]]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c) for i, c in enumerate(cols)]
    out = io.StringIO()
    out.write("  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip() + "\n")
    for row in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() + "\n")
    if len(rows) > max_rows:
        out.write(f"... {len(rows) - max_rows} more\n")
    return out.getvalue()


def best_summary(study):
    """One line: the best trial's number, value and parameters."""
    try:
        b = study.best_trial
    except ValueError:
        return f"study {study.study_name}: no completed trial"
    ps = ", ".join(f"{k}={_fmt(v)}" for k, v in b.params.items())
    return f"best trial {b.number}: value {_fmt(b.value)} with {ps}"


def write_csv(study, path):
    """All trials as CSV (one row per trial, one column per parameter), written atomically."""
    from ..serialization import atomic_write_bytes

    rows, params = _rows(study)
    cols = ["number", "state", "value", "steps", "seconds"] + params + (["thaw_of"] if any("thaw_of" in r for r in rows)
                                                                      else [])
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    atomic_write_bytes(os.fspath(path), buf.getvalue().encode())
    return path


def _plt():
    from ..debug._plot import pyplot

    return pyplot()


def _complete(study):
    from optuna.trial import TrialState

    return [t for t in study.trials if t.state == TrialState.COMPLETE and t.value is not None]


def plot_history(study, path):
    """Objective value of each completed trial and the best so far, by trial number (PNG)."""
    plt = _plt()
    ts = _complete(study)
    fig, ax = plt.subplots(figsize=(6, 4))
    if ts:
        xs = [t.number for t in ts]
        ys = [t.value for t in ts]
        best, cur = [], None
        minimize = study.direction.name == "MINIMIZE"
        for y in ys:
            cur = y if cur is None else (min(cur, y) if minimize else max(cur, y))
            best.append(cur)
        ax.scatter(xs, ys, s=14, label="trial")
        ax.step(xs, best, where="post", color="C3", label="best so far")
        ax.legend()
    ax.set_xlabel("trial")
    ax.set_ylabel("objective")
    ax.set_title(f"optimization history: {study.study_name}")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def param_importances(study):
    """Optuna's fANOVA importances (normalized to sum 1), {} with fewer than 2 completed trials or parameters."""
    import optuna

    ts = _complete(study)
    if len(ts) < 2 or len({k for t in ts for k in t.params}) < 1:
        return {}
    try:
        return optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError):
        return {}


def plot_importance(study, path):
    """Horizontal bars of the parameters' importances (PNG)."""
    plt = _plt()
    imp = param_importances(study)
    fig, ax = plt.subplots(figsize=(6, 1 + 0.5 * max(1, len(imp))))
    if imp:
        names = list(imp)[::-1]
        ax.barh(names, [imp[n] for n in names])
    ax.set_xlabel("importance (fANOVA)")
    ax.set_title("parameter importance")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_slices(study, path):
    """One panel per parameter: objective value against the parameter's value (log axis for log-scale ones)."""
    plt = _plt()
    ts = _complete(study)
    names = sorted({k for t in ts for k in t.params})
    fig, axes = plt.subplots(1, max(1, len(names)), figsize=(3.2 * max(1, len(names)), 3), squeeze=False)
    for ax, n in zip(axes[0], names):
        pts = [(t.params[n], t.value) for t in ts if n in t.params]
        xs = [p[0] for p in pts]
        if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs):
            ax.scatter(xs, [p[1] for p in pts], s=12)
            dist = next((t.distributions[n] for t in ts if n in t.distributions), None)
            if getattr(dist, "log", False):
                ax.set_xscale("log")
        else:
            labels = sorted({str(x) for x in xs})
            ax.scatter([labels.index(str(x)) for x in xs], [p[1] for p in pts], s=12)
            ax.set_xticks(range(len(labels)), labels)
        ax.set_xlabel(n)
    axes[0][0].set_ylabel("objective")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def write_report(study, out, print_fn=print):
    """Print the table and the best trial; write OUT/STUDY.csv, STUDY_history.png, STUDY_importance.png and
    STUDY_slices.png. Returns the paths written."""
    os.makedirs(out, exist_ok=True)
    base = os.path.join(out, study.study_name)
    paths = {"csv": write_csv(study, base + ".csv"), "history": plot_history(study, base + "_history.png"),
             "importance": plot_importance(study, base + "_importance.png"),
             "slices": plot_slices(study, base + "_slices.png")}
    if print_fn is not None:
        print_fn(trials_table(study, max_rows=20).rstrip())
        print_fn(best_summary(study))
    return paths
