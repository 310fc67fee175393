"""Home's charts as server-rendered SVG (no script, no CDN: nothing for the CSP to allow).

bars(): the MRR bridge per month, gains stacked above the zero line and losses below it;
lines(): one or more series over the months. Amounts are integer minor units; the axis is
labelled in the store currency. Each shape carries a <title> with its exact figure.
"""
from markupsafe import Markup, escape

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 720, 240, 84, 12, 12, 28
#: movement -> (sign, colour)
MOVES = {"new": (1, "#2e7d32"), "expansion": (1, "#66bb6a"), "reactivation": (1, "#26a69a"),
         "contraction": (-1, "#ffa726"), "churn": (-1, "#e53935")}


def _nice(top):
    """A round axis maximum >= top (1, 2, 5 x 10^n)."""
    step = 1
    while step * 10 <= top:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= top:
            return step * factor
    return step * 10


def _frame(low, high, labels, money, title):
    """The SVG opening, the grid with money labels, the month labels; returns (parts, y())."""
    plot_h = HEIGHT - TOP - BOTTOM

    def y(cents):
        return TOP + plot_h * (high - cents) / ((high - low) or 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'role="img" class="md-chart" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>"]
    for tick in sorted({low, 0, high, (high + low) // 2}):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" '
                     f'y2="{y(tick):.1f}" stroke="{"#777" if tick == 0 else "#ddd"}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" '
                     f'font-size="11" fill="#555">{escape(money(tick))}</text>')
    step = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    for n, label in enumerate(labels):
        parts.append(f'<text x="{LEFT + step * (n + 0.5):.1f}" y="{HEIGHT - 8}" '
                     f'text-anchor="middle" font-size="11" fill="#555">{escape(label)}</text>')
    return parts, y, step


def bars(months, money, title="MRR movements per month"):
    """The bridge: per month, new/expansion/reactivation up, contraction/churn down."""
    ups = [sum(m[f"{k}_cents"] for k, (s, _) in MOVES.items() if s > 0) for m in months]
    downs = [sum(m[f"{k}_cents"] for k, (s, _) in MOVES.items() if s < 0) for m in months]
    high, low = _nice(max(ups + [1])), -_nice(max(downs + [1]))
    parts, y, step = _frame(low, high, [m["month"] for m in months], money, title)
    width = step * 0.6
    for n, month in enumerate(months):
        x = LEFT + step * n + (step - width) / 2
        above = below = 0
        for kind, (sign, colour) in MOVES.items():
            cents = month[f"{kind}_cents"]
            if not cents:
                continue
            if sign > 0:
                top, bottom = above + cents, above
                above = top
            else:
                top, bottom = -below, -(below + cents)
                below += cents
            parts.append(
                f'<rect class="md-bar md-bar-{kind}" x="{x:.1f}" y="{y(top):.1f}" '
                f'width="{width:.1f}" height="{max(y(bottom) - y(top), 0.5):.1f}" '
                f'fill="{colour}"><title>{escape(month["month"])} {kind}: '
                f'{"−" if sign < 0 else ""}{escape(money(cents))}</title></rect>')
    parts.append("</svg>")
    return Markup("".join(parts))


def lines(months, series, money, title):
    """series: [(key, label, colour)], each key a figure of every month."""
    values = [m[key] for m in months for key, _, _ in series]
    high = _nice(max(values + [1]))
    low = -_nice(-min(values)) if min(values + [0]) < 0 else 0
    parts, y, step = _frame(low, high, [m["month"] for m in months], money, title)
    for key, label, colour in series:
        points = [(LEFT + step * (n + 0.5), y(m[key])) for n, m in enumerate(months)]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(f'<polyline class="md-line md-line-{key}" points="{path}" fill="none" '
                     f'stroke="{colour}" stroke-width="2"/>')
        for (px, py), month in zip(points, months):
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}">'
                         f'<title>{escape(month["month"])} {escape(label)}: '
                         f'{escape(money(month[key]))}</title></circle>')
    parts.append("</svg>")
    return Markup("".join(parts))
