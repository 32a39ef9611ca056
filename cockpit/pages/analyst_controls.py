"""The controls both analyst pages wire the same way: the source's choices, the filter bar → the URL (which the
page's refresh reads), the export button → the table as CSV."""
from __future__ import annotations

import time
from dataclasses import replace

from dash import Input, Output, State, callback, dcc

from cockpit import analysis_state as st
from cockpit.analysis_view import district_names
from cockpit.components.analysis import options
from cockpit.runtime import current


def register_controls(prefix: str, *, resolution: bool = False) -> None:
    """The three callbacks of the page whose ids begin with ``prefix``; call once at import of the page."""
    @callback(Output(f"{prefix}-category", "options"), Output(f"{prefix}-category", "value"),
              Output(f"{prefix}-status", "options"), Output(f"{prefix}-status", "value"),
              Input(f"{prefix}-source", "value"), State(f"{prefix}-category", "value"),
              State(f"{prefix}-status", "value"), prevent_initial_call=True)
    def source_choices(source, category, status):
        source = source if source in st.SOURCE_ZH else "hotline"
        categories, statuses = st.CATEGORIES[source], st.STATUSES[source]
        return (options(categories), category if category in categories else None,
                options(statuses), status if status in statuses else None)

    inputs = [Input(f"{prefix}-dates", "start_date"), Input(f"{prefix}-dates", "end_date"),
              Input(f"{prefix}-source", "value"), Input(f"{prefix}-category", "value"),
              Input(f"{prefix}-status", "value"), Input(f"{prefix}-compare", "value")]
    if resolution:
        inputs.append(Input(f"{prefix}-res", "value"))

    @callback(Output(f"{prefix}-url", "search"), *inputs, State(f"{prefix}-url", "search"),
              State(f"{prefix}-district", "data"), prevent_initial_call=True)
    def push_url(first, last, source, category, status, compare, *rest):
        *res, search, district = rest
        state, tz = current_state(search, district)
        state = st.with_filters(st.with_dates(state, first, last, tz), source, category, status, compare)
        if res and res[0] in st.RESOLUTIONS and res[0] != state.resolution:
            state = replace(state, resolution=res[0], cell="")  # the selected cell is of another size
        return "?" + st.to_query(state)

    @callback(Output(f"{prefix}-download", "data"), Input(f"{prefix}-export", "n_clicks"),
              State(f"{prefix}-table", "derived_virtual_data"), State(f"{prefix}-table", "data"),
              State(f"{prefix}-table", "columns"), State(f"{prefix}-url", "search"),
              State(f"{prefix}-district", "data"), prevent_initial_call=True)
    def export(_clicks, shown, data, columns, search, district):
        state, _ = current_state(search, district)
        names = district_names(current().settings.city.adcode)
        place = state.cell or names.get(state.district, "全市")
        return dcc.send_bytes(st.to_csv(columns, shown if shown is not None else data), st.csv_filename(state, place),
                              type="text/csv")


def current_state(search: str | None, district: str | None) -> tuple[st.ViewState, str]:
    """(the state of a page's URL, the city's time zone); errors are the refresh's to show."""
    s = current().settings
    state, _ = st.parse_search(search, now=time.time(), tz=s.city.timezone,
                               districts=district_names(s.city.adcode), district=district)
    return state, s.city.timezone
