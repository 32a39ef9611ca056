"""What every page needs at request time — the settings, the warehouse and the files the screens read — set once
by ``create_app``. The files are read and checked at start-up (:func:`load_files`), never inside a callback: a bad
one stops the start with one line naming it (exit 2) instead of failing a screen's first visit."""
from __future__ import annotations

from dataclasses import dataclass

from alerts.rules import Rule, load_rules
from config.settings import Settings
from config.stations import load_stations
from domain.paths import ROOT
from domain.stations import Registry
from layers import districts as dmap
from warehouse import Warehouse


@dataclass(frozen=True)
class Files:
    rules: dict[str, Rule]  # alerts.rules, by id
    stations: Registry  # city.stations
    population: dict[str, int]  # city.population: adcode → residents; empty when not configured


def load_files(settings: Settings) -> Files:
    """Every file a screen reads; ConfigError (a ValueError) naming the first bad one."""
    s = settings
    population = dmap.load_population(ROOT / s.city.population, list(dmap.city_anchors(s.city.adcode))) \
        if s.city.population else {}
    return Files(rules={rule.id: rule for rule in load_rules(ROOT / s.alerts.rules)},
                 stations=load_stations(ROOT / s.city.stations, city=s.city.adcode), population=population)


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    warehouse: Warehouse
    files: Files


_current: Runtime | None = None


def configure(settings: Settings, warehouse: Warehouse, files: Files | None = None) -> None:
    global _current
    _current = Runtime(settings, warehouse, files or load_files(settings))


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("the cockpit is not configured: create it with cockpit.app.create_app()")
    return _current
