"""What every page needs at request time: the settings and the warehouse, set once by ``create_app``."""
from __future__ import annotations

from dataclasses import dataclass

from config.settings import Settings
from warehouse import Warehouse


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    warehouse: Warehouse


_current: Runtime | None = None


def configure(settings: Settings, warehouse: Warehouse) -> None:
    global _current
    _current = Runtime(settings, warehouse)


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("the cockpit is not configured: create it with cockpit.app.create_app()")
    return _current
