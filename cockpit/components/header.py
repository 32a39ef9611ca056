"""The header of the people's screens: the city's title, the screen's name, who is signed in and 退出."""
from __future__ import annotations

from dash import dcc, html

from cockpit.runtime import current
from cockpit.signin import csrf_token
from cockpit.users import ROLE_NAMES, User
from layers import districts as dmap


def header(screen: str, user: User | None) -> html.Div:
    city = dmap.city_boundaries(current().settings.city.adcode).get("name", "")
    who = [] if user is None else [
        html.Span([html.Span(ROLE_NAMES[user.role], className="user-role"), user.label], className="user-chip"),
        html.Form(method="POST", action="/logout", className="logout", children=[
            dcc.Input(type="hidden", name="csrf_token", value=csrf_token()),
            html.Button("退出", type="submit", className="logout-button")]),
    ]
    return html.Div(className="wall-header", children=[
        html.Div([f"{city}城市运行一网统管", html.Small(screen)], className="brand"),
        html.Div(className="header-right", children=who),
    ])
