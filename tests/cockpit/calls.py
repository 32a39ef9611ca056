"""Posting a Dash callback by HTTP as dash-renderer does, its body built from the app's own callback spec."""
from __future__ import annotations

import json

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
