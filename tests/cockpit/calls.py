"""Posting a Dash callback by HTTP as dash-renderer does, its body built from the app's own callback spec."""
from __future__ import annotations

import concurrent.futures as cf
import json
import time
import urllib.error
import urllib.request

from tests.helpers import csrf_header


def body(app, output: str, *values) -> dict:
    """The request body of the callback whose output is ``output`` (as ``app.callback_map`` names it), with
    ``values`` for its inputs then its state, in declared order."""
    spec = app.callback_map[output]
    declared = spec["inputs"] + spec["state"]
    assert len(values) == len(declared), [f"{d['id']}.{d['property']}" for d in declared]
    sent = [{"id": d["id"], "property": d["property"], "value": v} for d, v in zip(declared, values)]
    outputs = [dict(zip(("id", "property"), part.rsplit(".", 1)))
               for part in (output[2:-2].split("...") if output.startswith("..") else [output])]
    return {"output": output, "outputs": outputs if output.startswith("..") else outputs[0],
            "inputs": sent[:len(spec["inputs"])], "state": sent[len(spec["inputs"]):], "changedPropIds": []}


def post(client, app, output: str, *values):
    """The response of the callback, as a signed-in browser sends it (with its CSRF header)."""
    return client.post("/_dash-update-component", data=json.dumps(body(app, output, *values)),
                       content_type="application/json", headers=csrf_header(client))


WORLD = [[-90, -180], [90, 180]]  # map bounds as Leaflet sends them: the whole world
EVENTS = "..map-events.data...map-events-note.children.."


def map_load(web, client, parallel: int, *, quiet_tries: int = 3, timeout: float = 60):
    """``parallel`` ``map-events`` calls (world bounds, zoom 18) at once from ``client``'s session against the
    running server ``web``, and ``/healthz`` timed meanwhile: (status codes, sizes of the 200s, /healthz seconds
    when quiet, /healthz seconds under the load)."""
    client.get("/map")  # Dash finishes its callbacks on a first request
    headers = {"Content-Type": "application/json", "X-CSRFToken": client.get_cookie("_csrf_token").value,
               "Cookie": "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())}
    data = json.dumps(body(web.app, EVENTS, 1, WORLD, 18)).encode()

    def heavy(_):
        request = urllib.request.Request(f"{web.url}/_dash-update-component", data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:
                return reply.status, len(reply.read())
        except urllib.error.HTTPError as e:
            return e.code, len(e.read())

    def healthz() -> float:
        start = time.perf_counter()
        with urllib.request.urlopen(f"{web.url}/healthz", timeout=timeout) as reply:
            reply.read()
        return time.perf_counter() - start

    quiet = min(healthz() for _ in range(quiet_tries))
    with cf.ThreadPoolExecutor(parallel) as pool:
        load = pool.map(heavy, range(parallel))
        time.sleep(0.05)
        loaded = healthz()
        results = list(load)
    return [c for c, _ in results], [s for c, s in results if c == 200], quiet, loaded
