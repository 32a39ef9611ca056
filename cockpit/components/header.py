"""The header of the people's screens: the city's title, the screen's name, links to the other screens the
user's role may open, who is signed in and 退出 (a CSRF-checked POST); first on the right the screen's freshness
badge (``cockpit.components.freshness``)."""
from __future__ import annotations

from dash import dcc, html

from cockpit import access
from cockpit.runtime import current
from cockpit.signin import csrf_token
from cockpit.users import ROLE_NAMES, User
from domain.districts import city_boundaries

SCREENS = (("/wall", "一屏统览"), ("/map", "全域态势"), ("/duty", "值班研判"), ("/brief", "领导驾驶舱"),
           ("/analysis", "分析研判"))


def header(screen: str, user: User | None, badge: list | tuple = ()) -> html.Div:
    city = city_boundaries(current().settings.city.adcode).get("name", "")
    right = [*badge] + ([] if user is None else [
        html.Nav(className="nav", children=[dcc.Link(label, href=path) for path, label in SCREENS
                                            if label != screen and access.may_open(user.role, path)]),
        html.Span([html.Span(ROLE_NAMES[user.role], className="user-role"), user.label], className="user-chip"),
        html.Form(method="POST", action="/logout", className="logout", children=[
            dcc.Input(type="hidden", name="csrf_token", value=csrf_token()),
            html.Button("退出", type="submit", className="logout-button")]),
    ])
    return html.Div(className="wall-header", children=[
        html.Div([f"{city}城市运行一网统管", html.Small(screen)], className="brand"),
        html.Div(className="header-right", children=right),
    ])
