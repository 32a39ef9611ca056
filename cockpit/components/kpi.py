"""KPI tile: a label, a big number with its unit, and a line of context under it."""
from __future__ import annotations

from dash import html


def kpi_tile(label: str, unit: str, *, value: str = "—", sub: str = "", help_text: str = "",
             tile_id: str | None = None, tile_class: str = "", value_class: str = "", sub_class: str = "",
             extra: tuple | list = ()) -> html.Div:
    """The tile, then ``extra`` (the brief's changes). With ``tile_id``, the number and the line have the ids
    ``{tile_id}-value`` and ``{tile_id}-sub`` (the wall's callback writes them)."""
    def props(part: str, css: str = "") -> dict:
        return {**({"id": f"{tile_id}-{part}"} if tile_id else {}), **({"className": css} if css else {})}

    return html.Div(className=f"kpi {tile_class}".strip(), title=help_text, **({"id": tile_id} if tile_id else {}),
                    children=[
        html.Div(label, className="kpi-label"),
        html.Div([html.Span(value, **props("value", value_class)), html.Span(unit, className="kpi-unit")],
                 className="kpi-value"),
        html.Div(sub, className=f"kpi-sub {sub_class}".strip(), **props("sub")),
        *extra,
    ])
