"""The warehouse every part shares: connection by URL, migrations, and the query functions."""
from warehouse.backends import Warehouse, connect
from warehouse.errors import WarehouseError, WarehouseUnavailable

__all__ = ["Warehouse", "WarehouseError", "WarehouseUnavailable", "connect"]
