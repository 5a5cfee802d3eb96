"""Bar charts drawn on the server as inline SVG (the health page): no script, no CDN, the admin works offline.

`bar_chart` stacks one or more series per bar; every bar carries a <title> (its tooltip, read by screen readers)
and the chart an aria-label, so the figures stay readable without looking at the picture.
"""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

AXIS = 14  # px under the bars for the first and last labels


def _px(value):
    return f"{value:.1f}"


def bar_chart(*, labels, series, width=320, height=90, title="", compact=False):
    """An SVG of ``len(labels)`` stacked bars. ``series``: ``[(name, colour, values)]``, values one per label,
    stacked in that order from the bottom. The scale's top is the largest stack (at least 1). ``compact``: bars and
    their tooltips only, no legend nor axis labels (a chart in a table's cell)."""
    count = max(len(labels), 1)
    top = max([sum(values) for values in zip(*(s[2] for s in series), strict=True)] + [1])
    plot = height - (2 if compact else AXIS)
    room = 0 if compact else 13  # the legend's line
    step = width / count
    bar = max(step - 2, 1)
    parts = []
    for i, label in enumerate(labels):
        base = plot
        tip = ", ".join(_("%(series)s: %(value)s") % {"series": name, "value": values[i]} for name, _c, values in series)
        for _name, colour, values in series:
            value = values[i]
            if not value:
                continue
            h = max(value / top * (plot - room), 1)
            base -= h
            parts.append(format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} — {}</title></rect>',
                _px(i * step + 1), _px(base), _px(bar), _px(h), colour, label, tip))
        # A transparent full-height hit area: an empty bar still has its tooltip.
        parts.append(format_html(
            '<rect x="{}" y="0" width="{}" height="{}" fill="transparent"><title>{} — {}</title></rect>',
            _px(i * step), _px(step), plot, label, tip))
    if compact:
        return format_html(
            '<svg class="p2c-chart" role="img" aria-label="{}" width="{}" height="{}" viewBox="0 0 {} {}" '
            'xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}'
            '<line x1="0" y1="{}" x2="{}" y2="{}" stroke="#999" stroke-width="1"/></svg>',
            title, width, height, width, height, title, mark_safe("".join(parts)), plot, width, plot,
        )
    legend = format_html_join(" ", '<tspan fill="{}">■</tspan> {}', ((c, n) for n, c, _v in series))
    axis = format_html(
        '<line x1="0" y1="{p}" x2="{w}" y2="{p}" stroke="#999" stroke-width="1"/>'
        '<text x="0" y="{y}" font-size="10" fill="#666">{first}</text>'
        '<text x="{w}" y="{y}" font-size="10" fill="#666" text-anchor="end">{last}</text>'
        '<text x="{w}" y="10" font-size="10" fill="#666" text-anchor="end">{top}</text>',
        p=plot, w=width, y=height - 2, first=labels[0] if labels else "", last=labels[-1] if labels else "",
        top=_("max %(value)s") % {"value": top},
    )
    return format_html(
        '<svg class="p2c-chart" role="img" aria-label="{}" width="{}" height="{}" viewBox="0 0 {} {}" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}{}'
        '<text x="0" y="10" font-size="10" fill="#666">{}</text></svg>',
        title, width, height, width, height, title, mark_safe("".join(parts)), axis, legend,
    )
