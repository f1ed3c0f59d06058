"""The latency plot the README links: distributions of scenarios 2 and 4, ours vs official."""

from __future__ import annotations

from pathlib import Path

from bench.report import Table

_STYLE = {"ours": "-", "official": "--", "raw": ":"}
#: A colour family per library, so that ours and theirs read apart at a glance.
_COLOURS = {
    "ours": ["tab:blue", "tab:cyan", "tab:green", "tab:olive"],
    "official": ["tab:red", "tab:orange", "tab:pink", "tab:brown"],
    "raw": ["tab:gray"],
}


def plot_latency(completion: Table, stream: Table, path: Path) -> None:
    """Empirical CDFs on a log time axis: the gap between long-poll and 1 s polling shows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(13, 5), sharey=True)
    for axis, table in zip(axes, (completion, stream), strict=True):
        used = {role: 0 for role in _COLOURS}
        for row in table.rows:
            if not row.samples:
                continue
            colour = _COLOURS[row.role][used[row.role] % len(_COLOURS[row.role])]
            used[row.role] += 1
            ordered = sorted(max(value, 0.01) for value in row.samples)
            fractions = [(index + 1) / len(ordered) for index in range(len(ordered))]
            axis.step(
                ordered,
                fractions,
                _STYLE[row.role],
                color=colour,
                where="post",
                label=row.label,
                linewidth=1.6,
            )
        axis.set_xscale("log")
        axis.set_xlabel("latency, ms (log scale)")
        axis.set_title(table.title.split("(")[0].strip(), fontsize=11)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=7, loc="center")
    axes[0].set_ylabel("fraction of jobs / chunks")
    figure.suptitle("runpod-typed vs the official runpod package on the local emulator (loopback)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
