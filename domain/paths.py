"""The project's own files: boundaries, settings, assets."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = ROOT / "assets"
GEO_DIR = ASSETS_DIR / "geo"
CONFIG_DIR = ROOT / "config"
