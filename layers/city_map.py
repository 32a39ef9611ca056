"""The city map every screen composes: a dark base (or an intranet tile server), the city outline, the district
choropleth with its labels, and overlays (events, grid, stations) under a layer control. Everything is drawn in
the boundaries' CRS (GCJ-02 for the shipped Amap boundaries): points are stored in it too (``map_lon``)."""
from __future__ import annotations

from functools import lru_cache

import dash_leaflet as dl
import shapely
from dash import ClientsideFunction, Input, Output, State, clientside_callback
from shapely.geometry import shape

from domain.districts import city_boundaries
from layers import districts

DARK = "#071223"


@lru_cache(maxsize=8)
def city_outline(adcode: str) -> list:
    """The city's outer boundary as Leaflet positions (one [lat, lon] ring per part; the districts dissolved and
    simplified to ~50 m)."""
    union = shapely.union_all([shape(f["geometry"]) for f in city_boundaries(adcode)["features"]])
    parts = getattr(union.simplify(0.0005), "geoms", [union.simplify(0.0005)])
    return [[[round(y, 5), round(x, 5)] for x, y in part.exterior.coords] for part in parts]


def city_map(prefix: str, adcode: str, *, overlays: tuple[tuple[str, object, bool], ...] = (),
             tile_url: str = "", tile_attribution: str = "", interactive: bool = False) -> dl.Map:
    """The map with id ``<prefix>-map``: districts ``<prefix>-districts`` (styled by ``hideout``), labels
    ``<prefix>-labels``, and ``overlays`` as (name, layer, shown) in a layer control. ``interactive`` maps pan,
    zoom and report their viewport (``bounds``, ``zoom``); the wall's map does neither."""
    boundaries = city_boundaries(adcode)
    choropleth = [
        dl.GeoJSON(id=f"{prefix}-districts", data=boundaries,  # with url=, styles sent before it loads are lost
                   hideout=districts.hideout({}, districts.class_breaks(0)), style={"variable": "cockpit.districtStyle"},
                   zoomToBounds=False, hoverStyle={"variable": "cockpit.districtHover"},
                   onEachFeature={"variable": "cockpit.districtTooltip"}),
        dl.Polygon(id=f"{prefix}-outline", positions=city_outline(adcode), interactive=False, fill=False,
                   color="#9fe7ff", weight=3, opacity=0.9),
        dl.GeoJSON(id=f"{prefix}-labels", data=districts.labels(districts.city_anchors(adcode), {}, ""),
                   pointToLayer={"variable": "cockpit.districtLabel"}),
    ]
    layers = [dl.Overlay(dl.LayerGroup(choropleth), name="区县", checked=True)]
    layers += [dl.Overlay(layer, name=name, checked=shown) for name, layer, shown in overlays]
    base = []
    if tile_url:
        base = [dl.BaseLayer(dl.TileLayer(url=tile_url, attribution=tile_attribution), name="瓦片底图", checked=True),
                dl.BaseLayer(dl.LayerGroup(), name="暗色底图", checked=False)]
    control = dl.LayersControl(base + layers, id=f"{prefix}-layers", collapsed=not interactive, position="topright",
                               # given explicitly: dash-leaflet otherwise forgets the initially checked overlays
                               overlays=["区县", *(name for name, _, shown in overlays if shown)])
    bounds = districts.bounds(boundaries)
    # A tracked map needs a centre and zoom to start from; the page then fits it to ``bounds`` (see fit_on_load).
    view = {"center": [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2], "zoom": 9,
            "trackViewport": True} if interactive else {"trackViewport": False, "bounds": bounds}
    points_on_top = dl.Pane(name="pointPane", style={"zIndex": 450})  # circles over the district and grid shapes
    labels_on_top = dl.Pane(name="labelPane", style={"zIndex": 620, "pointerEvents": "none"})  # over the points
    return dl.Map([points_on_top, labels_on_top, control], id=f"{prefix}-map", zoomSnap=0.1 if not interactive else 0.25,
                  zoomControl=interactive, scrollWheelZoom=interactive, dragging=interactive,
                  doubleClickZoom=interactive, attributionControl=True, className="city-map", **view,
                  style={"height": "100%", "width": "100%", "background": DARK})


def fit_on_load(prefix: str) -> None:
    """Fit an interactive map to the bounds in the store ``<prefix>-fit`` when the page loads (the map's size
    is known only in the browser; ``bounds`` only sets a map's first view). Call once at import of the page."""
    clientside_callback(ClientsideFunction("cockpit", "fitViewport"),
                        Output(f"{prefix}-map", "viewport", allow_duplicate=True), Input(f"{prefix}-fit", "data"),
                        State(f"{prefix}-map", "id"), prevent_initial_call="initial_duplicate")
