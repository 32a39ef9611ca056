"""404: an unknown address gets a page that says so and links to the wall."""
import dash
from dash import dcc, html

dash.register_page(__name__, path="/404", title="页面不存在")

layout = html.Div(className="not-found", children=[
    html.H1("404 · 页面不存在"),
    html.P("您访问的地址不存在。"),
    dcc.Link("返回一屏统览", href="/wall"),
])
