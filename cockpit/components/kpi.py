"""KPI tile: a label, a big number with its unit, and a line of context under it."""
from __future__ import annotations

from dash import html


def kpi_tile(tile_id: str, label: str, unit: str, help_text: str = "") -> html.Div:
    return html.Div(id=tile_id, className="kpi", title=help_text, children=[
        html.Div(label, className="kpi-label"),
        html.Div([html.Span("—", id=f"{tile_id}-value"), html.Span(unit, className="kpi-unit")], className="kpi-value"),
        html.Div("", id=f"{tile_id}-sub", className="kpi-sub"),
    ])

