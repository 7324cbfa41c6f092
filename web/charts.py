"""Charts drawn on the server as SVG: plain numbers in, bar geometry out, no JavaScript library."""

from dataclasses import dataclass

LABEL_WIDTH = 96
BAR_WIDTH = 190
ROW_HEIGHT = 22


@dataclass
class Bar:
    label: str
    value: int
    width: float
    y: int
    css: str


@dataclass
class BarChart:
    """Horizontal bars sharing one scale; `summary` is the text a screen reader hears."""

    bars: list[Bar]
    height: int
    summary: str
    label_width: int = LABEL_WIDTH
    bar_width: int = BAR_WIDTH

    @property
    def width(self) -> int:
        return self.label_width + self.bar_width + 48


def bar_chart(title: str, rows: list[tuple[str, int, str]]) -> BarChart:
    """Rows of (label, value, css class), scaled to the largest value (a zero still shows its label)."""
    top = max((value for _, value, _ in rows), default=0) or 1
    bars = [
        Bar(label=label, value=value, width=round(BAR_WIDTH * value / top, 1), y=index * ROW_HEIGHT, css=css)
        for index, (label, value, css) in enumerate(rows)
    ]
    summary = f"{title}: " + ", ".join(f"{label} {value}" for label, value, _ in rows)
    return BarChart(bars=bars, height=len(rows) * ROW_HEIGHT, summary=summary)
