"""The screens' one table style: the analyst screens' DataTable and the duty queue's AG Grid (its theme) take
their colours and type from here."""
from __future__ import annotations

HEADER_BG, CELL_BG, TEXT = "#0f2340", "#0b1628", "#e6f1ff"
LINE, ROW_LINE, ACCENT = "#17365c", "#13294a", "#39c5ff"
UP, DOWN = "#ff8c1a", "#2bd47d"  # a change column: more (orange) and less (green)

DATA_TABLE_STYLE = {
    "style_as_list_view": True,
    "style_table": {"overflowX": "auto"},
    "style_header": {"backgroundColor": HEADER_BG, "color": TEXT, "fontWeight": 600, "fontSize": "1.05rem",
                     "borderBottom": f"2px solid {LINE}"},
    "style_cell": {"backgroundColor": CELL_BG, "color": TEXT, "fontSize": "1.05rem", "padding": "0.45rem",
                   "border": "none", "borderBottom": f"1px solid {ROW_LINE}", "fontFamily": "inherit",
                   "textAlign": "left", "maxWidth": "28rem", "overflow": "hidden", "textOverflow": "ellipsis"},
    "style_cell_conditional": [{"if": {"column_type": "numeric"}, "textAlign": "right",
                                "fontVariantNumeric": "tabular-nums"}],
    "style_data_conditional": [{"if": {"filter_query": "{change} > 0", "column_id": "change"}, "color": UP},
                               {"if": {"filter_query": "{change} < 0", "column_id": "change"}, "color": DOWN}],
}

GRID_THEME = (f"themeQuartz.withParams({{backgroundColor: '{CELL_BG}', foregroundColor: '{TEXT}', "
              f"accentColor: '{ACCENT}', headerBackgroundColor: '{HEADER_BG}', borderColor: '{LINE}', "
              f"rowHoverColor: '{ROW_LINE}', selectedRowBackgroundColor: '#1b3d6b', fontSize: 16, headerFontSize: 15, "
              "fontFamily: 'Noto Sans CJK SC, Microsoft YaHei, sans-serif'})")
