"""The one way a config file is read: YAML (with line numbers in its errors), then ``msgspec.convert`` into the
file's typed Structs, and any failure as one line (:class:`ConfigError`).

The Structs declare what is allowed — types, ``Literal`` choices, tagged unions, ``msgspec.Meta`` bounds,
``__post_init__`` for rules across fields, ``Meta(extra={"check": f})`` for a value that must parse. A
``msgspec.ValidationError`` (its text and its ``$.path``) is turned here, and only here, into a :class:`Problem`:
where it is, what kind it is, the value as written, and what the declaration allows there. The module that owns
a file only words a Problem in that file's terms (``explain``).
"""
from __future__ import annotations

import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    Annotated,
    Any,
    Callable,
    Literal,
    TypeVar,
    Union,
    get_args,
    get_origin,
)

import msgspec
import yaml

T = TypeVar("T")
LARGEST = sys.float_info.max  # as an upper bound (``le=LARGEST``) it refuses inf; nan fails every bound


class ConfigError(ValueError):
    """An invalid setting or config file; the message is the one line the user sees."""


def read_yaml_file(path: Path) -> Any:
    """A YAML file's document; unreadable or invalid YAML → ConfigError naming the file (and line)."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"config error: cannot read {path}: {e.strerror}") from None
    except yaml.YAMLError as e:  # the context mark points at the opening of what is broken, when there is one
        mark = getattr(e, "context_mark", None) or getattr(e, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"config error: {path}{at}: invalid YAML: {problem}") from None


Kind = Literal["type", "choice", "bound", "unknown", "missing", "rule", "check"]


@dataclass(frozen=True)
class Problem:
    """What is wrong, for ``explain`` to word.

    kind: ``type`` (wrong type, or a number that is not finite), ``choice`` (not one of a Literal's values or a
    tagged union's tags; absent tags too), ``bound`` (outside a Meta bound: ``constraint`` names it, ``meta``
    holds the bounds), ``unknown`` / ``missing`` (keys: ``names`` lists all of them, ``fields`` the keys the
    struct has), ``rule`` (a ``__post_init__``'s ValueError: ``text``), ``check`` (a Meta check's ValueError).
    """

    path: tuple[str | int, ...]  # keys and list positions from the top: $.stations[2].river → ("stations", 2, "river")
    kind: Kind
    value: Any  # as written in the file; None when absent
    text: str  # msgspec's message, or the ValueError's
    struct: type | None = None  # the Struct holding the problem (the one at path for unknown/missing/rule)
    names: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    choices: tuple[Any, ...] = ()
    constraint: str = ""  # ge, gt, le, lt, multiple_of, pattern, min_length, max_length
    meta: dict[str, Any] = field(default_factory=dict)  # the Meta of the value's declaration (bounds, description, extra)


class Invalid(ValueError):
    """A value that does not convert; ``problem`` says why."""

    def __init__(self, problem: Problem):
        super().__init__(problem.text)
        self.problem = problem


def convert(data: Any, type_: Any, *, strict: bool = True) -> Any:
    """``data`` as ``type_`` (msgspec.convert, then the Meta checks), or :class:`Invalid`."""
    try:
        value = msgspec.convert(data, type_, strict=strict)
    except msgspec.ValidationError as e:
        raise Invalid(_problem(str(e), data, type_, strict)) from None
    _run_checks(value, type_, ())
    return value


def decode(data: Any, type_: type[T], explain: Callable[[Problem], str], *, strict: bool = True) -> T:
    """``data`` as ``type_``; the first problem → ConfigError ``config error: <explain(problem)>``."""
    try:
        return convert(data, type_, strict=strict)
    except Invalid as e:
        raise ConfigError(f"config error: {explain(e.problem)}") from None


# --- from a ValidationError to a Problem ----------------------------------------------------------------------------

_MISSING = object()
_BOUNDS = {">=": "ge", ">": "gt", "<=": "le", "<": "lt"}
_META = ("gt", "ge", "lt", "le", "multiple_of", "pattern", "min_length", "max_length", "description", "extra")


def _problem(message: str, data: Any, type_: Any, strict: bool) -> Problem:
    text, _, where = message.rpartition(" - at `")
    if not text:
        text, where = message, "$`"
    at_key = where.startswith("key` in `")
    tokens = re.findall(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]", where.removeprefix("key` in `").removesuffix("`")[1:])
    path: list[str | int] = []
    value, tp, struct = data, type_, None
    for name, index in tokens:
        base, _ = _unwrap(tp)
        if name:
            tag_field, tags = _tags(base)
            chosen = _chosen(base, value)
            if name == tag_field or chosen is None:  # the tag itself is wrong
                return Problem((*path, name), "choice", _get(value, name), text, choices=tags)
            struct = chosen
            tp = _field_types(chosen)[name]
            value = _get(value, name)
            path.append(name)
        elif index == "...":  # a dict's value: the first one that does not convert
            key_type, tp = get_args(base)
            key, value = next((k, v) for k, v in value.items() if not _converts(v, tp, strict))
            path.append(key)
        else:
            tp = (get_args(base) or (Any,))[0]
            value = value[int(index)]
            path.append(int(index))
    base, meta = _unwrap(tp)
    if at_key:  # a dict's key
        tp = get_args(base)[0]
        value = next(k for k in value if not _converts(k, tp, strict))
        path.append(value)
        base, meta = _unwrap(tp)
    value = None if value is _MISSING else value
    tag_field, tags = _tags(base)
    missing = re.fullmatch(r"Object missing required field `(.+)`", text)
    if missing and missing[1] == tag_field:
        return Problem((*path, missing[1]), "choice", None, text, choices=tags)
    chosen = _chosen(base, value)
    if chosen is not None and isinstance(value, dict):
        known = tuple(_field_types(chosen))
        if re.fullmatch(r"Object contains unknown field `(.+)`", text):
            names = tuple(str(k) for k in value if k not in known and k != tag_field)
            return Problem(tuple(path), "unknown", value, text, chosen, names, known)
        if missing:
            required = tuple(f.encode_name for f in msgspec.structs.fields(chosen) if f.required)
            names = tuple(name for name in required if name not in value)
            return Problem(tuple(path), "missing", value, text, chosen, names, known)
    kind: Kind
    constraint = ""
    if get_origin(base) is Literal:
        kind = "choice"
    elif re.fullmatch(r"Expected `\w+`, got `\w+`", text):
        kind = "type"
    elif m := re.fullmatch(r"Expected `[^`]+` (?:(>=|>|<=|<) .*|that's a (multiple) of .*|(matching) regex .*"
                           r"|of length (>=|<=) .*)", text):
        kind = "bound"
        constraint = (_BOUNDS.get(m[1] or "") or ("multiple_of" if m[2] else "pattern" if m[3] else
                      "min_length" if m[4] == ">=" else "max_length"))
        if isinstance(value, float) and not (-LARGEST <= value <= LARGEST):
            kind = "type"  # nan or inf: not a number a config means
    else:
        kind = "rule"
        struct = chosen or struct
    return Problem(tuple(path), kind, value, text, struct, choices=get_args(base) if kind == "choice" else (),
                   constraint=constraint, meta=meta)


def _unwrap(tp: Any) -> tuple[Any, dict[str, Any]]:
    """The type under Annotated and Optional / UNSET, and its Meta attributes merged."""
    meta: dict[str, Any] = {}
    while True:
        if get_origin(tp) is Annotated:
            tp, *metas = get_args(tp)
            for m in metas:
                meta.update({k: getattr(m, k) for k in _META if getattr(m, k, None) is not None})
        elif get_origin(tp) in (Union, types.UnionType):
            members = [t for t in get_args(tp) if t not in (type(None), msgspec.UnsetType)]
            if len(members) != 1:
                return tp, meta
            tp = members[0]
        else:
            return tp, meta


def _structs(tp: Any) -> list[type]:
    members = get_args(tp) if get_origin(tp) in (Union, types.UnionType) else (tp,)
    return [t for t in members if isinstance(t, type) and issubclass(t, msgspec.Struct)]


def _tags(tp: Any) -> tuple[str | None, tuple[Any, ...]]:
    """The tag field of a tagged union (or tagged Struct) and its tags, in declaration order."""
    configs = [s.__struct_config__ for s in _structs(tp)]
    tagged = [c for c in configs if c.tag_field]
    return (tagged[0].tag_field, tuple(c.tag for c in tagged)) if tagged else (None, ())


def _chosen(tp: Any, value: Any) -> type | None:
    """The Struct that ``value`` decodes into: the only one, or the one its tag names."""
    structs = _structs(tp)
    if len(structs) == 1:
        return structs[0]
    tag_field, _ = _tags(tp)
    tag = value.get(tag_field) if isinstance(value, dict) else None
    return next((s for s in structs if s.__struct_config__.tag == tag), None)


def _field_types(struct: type) -> dict[str, Any]:
    return {f.encode_name: f.type for f in msgspec.structs.fields(struct)}


def _get(value: Any, name: str) -> Any:
    return value.get(name, _MISSING) if isinstance(value, dict) else _MISSING


def _converts(value: Any, tp: Any, strict: bool) -> bool:
    try:
        msgspec.convert(value, tp, strict=strict)
    except msgspec.ValidationError:
        return False
    return True


def _run_checks(value: Any, tp: Any, path: tuple[str | int, ...]) -> None:
    """Call the ``Meta(extra={"check": f})`` of every field (f raises ValueError with a hint)."""
    base, meta = _unwrap(tp)
    check = (meta.get("extra") or {}).get("check")
    if check:
        try:
            check(value)
        except ValueError as e:
            raise Invalid(Problem(path, "check", value, str(e), meta=meta)) from None
    if isinstance(value, msgspec.Struct):
        for f in msgspec.structs.fields(type(value)):
            _run_checks(getattr(value, f.name), f.type, (*path, f.encode_name))
    elif isinstance(value, (list, tuple)) and get_args(base):
        for i, item in enumerate(value):
            _run_checks(item, get_args(base)[0], (*path, i))
