"""The funnel as a picture (``onboard funnel --format svg|png``), drawn with matplotlib.

One panel per flow; per step, top to bottom in the flow's order, four bars: how many
customers reached the step, moved on, were asked again, and went silent there. The step where
the "abandoned" bar is longest is where customers give up.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.ops.funnel import FlowFunnel

if TYPE_CHECKING:
    from matplotlib.axes import Axes

SERIES = (
    ("reached", "reached", "#4c78a8"),
    ("moved_on", "moved on", "#54a24b"),
    ("re_asked", "re-asked (invalid input)", "#f58518"),
    ("abandoned", "abandoned (went silent)", "#e45756"),
)
BAR = 0.2


def draw(funnels: Sequence[FlowFunnel], output: Path, *, period: str) -> None:
    """Write the chart to ``output`` (the suffix picks the format: .png or .svg)."""
    import matplotlib  # noqa: PLC0415 - ~0.5 s to import: only for this command

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    plt.rcParams["svg.hashsalt"] = "onboard-funnel"  # the same data: the same SVG
    heights = [max(2.0, 0.55 * len(f.steps) + 1.2) for f in funnels] or [2.0]
    figure, axes = plt.subplots(
        len(heights), 1, figsize=(10, sum(heights)), height_ratios=heights, squeeze=False
    )
    for axis, funnel in zip(axes[:, 0], funnels, strict=False):
        _panel(axis, funnel)
    if not funnels:
        axes[0, 0].text(0.5, 0.5, "no step events in this period", ha="center", va="center")
        axes[0, 0].set_axis_off()
    figure.suptitle(f"Where customers get stuck: onboarding funnel, {period}", fontsize=13)
    figure.tight_layout()
    figure.savefig(output, dpi=110, metadata={"Date": None} if output.suffix == ".svg" else None)
    plt.close(figure)


def _panel(ax: Axes, funnel: FlowFunnel) -> None:
    steps = funnel.steps
    positions = range(len(steps))
    for index, (attribute, label, colour) in enumerate(SERIES):
        values = [getattr(step, attribute) for step in steps]
        offsets = [p + (index - 1.5) * BAR for p in positions]
        bars = ax.barh(offsets, values, height=BAR, color=colour, label=label)
        ax.bar_label(bars, [str(v) if v else "" for v in values], padding=2, fontsize=7)
    ax.set_yticks(list(positions), [step.step for step in steps])
    ax.invert_yaxis()
    ends = ", ".join(f"{end}: {n}" for end, n in sorted(funnel.finished.items())) or "none"
    ax.set_title(
        f"{funnel.flow} — {funnel.customers} customers; ended {ends}", fontsize=10, loc="left"
    )
    ax.set_xlabel("customers")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
