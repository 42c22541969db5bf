"""`History`: per-epoch training/validation losses and metrics returned by `fit`, with `plot(path)`.

Holds plain floats only (never graphs or arrays), so keeping a History costs no memory growth.
"""
from __future__ import annotations

__all__ = ["History"]


class History:
    """`history.history[name]` is a list with one float per epoch; `history.epoch` the epoch numbers (0-based, as
    Keras); the plot, the CSV log and the progress lines number epochs from 1."""

    def __init__(self):
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def append(self, epoch: int, logs: dict) -> None:
        """Record the logs of one finished epoch (names missing in earlier epochs are padded with NaN)."""
        n = len(self.epoch)
        self.epoch.append(int(epoch))
        for k, v in logs.items():
            self.history.setdefault(k, [float("nan")] * n).append(float(v))
        for vals in self.history.values():
            if len(vals) < n + 1:
                vals.append(float("nan"))

    def __getitem__(self, name):
        return self.history[name]

    def __contains__(self, name):
        return name in self.history

    def __len__(self):
        return len(self.epoch)

    def last(self, name, default=None):
        vals = self.history.get(name)
        return vals[-1] if vals else default

    def state_dict(self) -> dict:
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}

    def load_state_dict(self, state) -> None:
        self.epoch = [int(e) for e in state["epoch"]]
        self.history = {k: [float(x) for x in v] for k, v in state["history"].items()}

    def __repr__(self):
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        return f"History(epochs={len(self.epoch)}{', ' + last if last else ''})"

    def plot(self, path=None, keys=None):
        """Plot losses (left) and other metrics (right) per epoch (numbered from 1, as the CSV log), train solid and
        validation (val_*, present when fit had validation data) dashed; save to `path` (PNG).

        Returns the matplotlib Figure. Uses the non-interactive Agg backend when saving.
        """
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        if not self.epoch:
            raise ValueError("History.plot: nothing to plot (no finished epochs)")
        names = [k for k in (keys or self.history) if k in self.history and k != "lr"]
        base = []
        for k in names:
            b = k[4:] if k.startswith("val_") else k
            if b not in base:
                base.append(b)
        losses = [b for b in base if "loss" in b]
        others = [b for b in base if "loss" not in b]
        ncols = 1 + bool(others)
        fig, axes = plt.subplots(1, ncols, figsize=(5.5 * ncols, 4), squeeze=False)
        x = [e + 1 for e in self.epoch]
        for ax, group, title in ((axes[0, 0], losses, "loss"), (axes[0, -1], others, "metrics")):
            if not group:
                continue
            for b in group:
                line = None
                if b in self.history:
                    (line,) = ax.plot(x, self.history[b], label=b)
                if "val_" + b in self.history:
                    kw = {"color": line.get_color()} if line is not None else {}
                    ax.plot(x, self.history["val_" + b], "--", label="val_" + b, **kw)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_title(title)
            ax.grid(alpha=0.3)
            ax.legend()
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=100)
            plt.close(fig)
        return fig
