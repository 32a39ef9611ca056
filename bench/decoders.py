"""Why msgspec decodes the events: bytes → a validated event, msgspec against pydantic v2 on the same messages.

    python -m bench.decoders [--hours 6]

The messages are the simulated city's (all four families) plus the malformed kinds of ``simulator.malformed``
that a schema can refuse (the others — a place outside the city, a time too far off, an unknown station, size —
are the decoder's own checks around either library). The pydantic models are generated from the contract's
msgspec Structs (same fields, literals, lengths, patterns and ranges; unknown fields forbidden where the fast
path forbids them), so both sides check the same contract; the script first shows that they accept and refuse
the same messages. Rates are the best of three passes; the untyped parsers (``json.loads``,
``msgspec.json.decode``) are the floor.
"""
from __future__ import annotations

import argparse
import json
import random
import time
import types
import typing
from collections import Counter
from typing import Annotated, Any, Callable, Literal, Union

import msgspec
import pydantic

from config.settings import load
from domain.contract import STRICT, STRICT_DECODER
from ingest.consume import freeze_startup_heap, make_decoder
from simulator.city import City
from simulator.malformed import corrupt, kinds_for
from streams.kafka_io import Record

HOUR = 3600
SCHEMA_KINDS = ("empty", "truncated", "not_object", "not_utf8", "missing_field", "bad_type", "bad_value",
                "unknown_schema", "negative_reading")


def pydantic_type(t: Any, models: dict[type, type]) -> Any:
    """The pydantic equivalent of a contract annotation: Meta constraints become Field constraints, Structs
    become models."""
    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin is Annotated:
        meta = [m for m in args[1:] if isinstance(m, msgspec.Meta)]
        limits = {k: getattr(m, k) for m in meta for k in ("min_length", "max_length", "pattern", "ge", "le")
                  if getattr(m, k) is not None}
        return Annotated[pydantic_type(args[0], models), pydantic.Field(**limits)]
    if origin in (Union, types.UnionType):
        return Union[tuple(pydantic_type(a, models) for a in args)]
    if origin is list:
        return list[pydantic_type(args[0], models)]
    if isinstance(t, type) and issubclass(t, msgspec.Struct):
        return pydantic_model(t, models)
    return t  # str, int, float, bool, None, Literal


def pydantic_model(struct: type[msgspec.Struct], models: dict[type, type]) -> type[pydantic.BaseModel]:
    """A strict pydantic model with the Struct's fields, defaults, tag (as ``schema``) and unknown-field rule."""
    if struct in models:
        return models[struct]
    config = struct.__struct_config__
    fields: dict[str, Any] = {}
    if config.tag is not None:
        fields["tag"] = (Literal[config.tag], pydantic.Field(alias=config.tag_field))
    for f in msgspec.structs.fields(struct):
        if f.default is not msgspec.NODEFAULT:
            default = f.default
        elif f.default_factory is not msgspec.NODEFAULT:
            default = pydantic.Field(default_factory=f.default_factory)
        else:
            default = ...
        fields[f.name] = (pydantic_type(f.type, models), default)
    settings = pydantic.ConfigDict(strict=True, extra="forbid" if config.forbid_unknown_fields else "ignore")
    models[struct] = pydantic.create_model(struct.__name__, __config__=settings, **fields)
    return models[struct]


def pydantic_decoder() -> Callable[[bytes], Any]:
    """bytes → model of the event's family, chosen by ``schema`` (a discriminated union, like msgspec's tag)."""
    models: dict[type, type] = {}
    union = Union[tuple(pydantic_model(s, models) for s in STRICT.values())]
    adapter = pydantic.TypeAdapter(Annotated[union, pydantic.Field(discriminator="tag")])
    return adapter.validate_json


def accepts(decode: Callable[[bytes], Any], raw: bytes) -> bool:
    try:
        decode(raw)
        return True
    except (msgspec.DecodeError, pydantic.ValidationError, UnicodeDecodeError, ValueError):
        return False


def best_rate(decode: Callable[[Any], Any], messages: list, batch: int = 0) -> float:
    """Messages per second, the best of three passes; ``batch``: ``decode`` takes lists of that many."""
    chunks = [messages[i:i + batch] for i in range(0, len(messages), batch)] if batch else messages
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for chunk in chunks:
            decode(chunk)
        best = min(best, time.perf_counter() - start)
    return len(messages) / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=6.0)
    args = ap.parse_args()
    settings = load(environ={})
    now = time.time()
    events = City(settings, (), now - args.hours * HOUR).advance(now)
    valid = [msgspec.json.encode(e) for e in events]
    families = Counter(e["schema"] for e in events)
    r = random.Random(5)
    bad = [corrupt(kind, e, r, max_message_bytes=65536, now=now)
           for e in events[:: max(1, len(events) // 300)] for kind in kinds_for(e["schema"]) if kind in SCHEMA_KINDS]
    print(f"{len(valid):,} valid messages, {sum(map(len, valid)) / len(valid):.0f} bytes on average "
          f"({', '.join(f'{n:,} {s}' for s, n in sorted(families.items()))}); {len(bad):,} malformed")

    decoders = {"msgspec Struct (strict tagged union)": STRICT_DECODER.decode,
                "pydantic v2 (strict discriminated union)": pydantic_decoder()}
    verdicts = {name: [accepts(decode, raw) for raw in valid + bad] for name, decode in decoders.items()}
    for name, accepted in verdicts.items():
        ok, refused = sum(accepted[:len(valid)]), len(bad) - sum(accepted[len(valid):])
        print(f"  {name}: accepts {ok:,}/{len(valid):,} valid, refuses {refused:,}/{len(bad):,} malformed")
    disagree = sum(a != b for a, b in zip(*verdicts.values()))
    print(f"  they disagree on {disagree:,} of {len(valid) + len(bad):,} messages")

    floor = {"json.loads (no types, no checks)": json.loads,
             "msgspec.json.decode (no types, no checks)": msgspec.json.decode}
    decoder = make_decoder(settings)
    records = [Record("bench", 0, i, None, raw) for i, raw in enumerate(valid)]
    freeze_startup_heap()  # as ingest does
    rates = {name: best_rate(decode, valid) for name, decode in {**decoders, **floor}.items()}
    rates["ingest.decode (every check, place, derived value)"] = best_rate(
        decoder.decode_rows, records, batch=5000)
    base = rates["msgspec Struct (strict tagged union)"]
    print("\nvalid messages, bytes → validated event:")
    for name, r in rates.items():
        print(f"  {name:<58} {r:>9,.0f} /s   {r / base:5.2f}× msgspec")


if __name__ == "__main__":
    main()
