"""The warehouse's own errors; drivers' errors are wrapped into these, never leaked."""


class WarehouseError(RuntimeError):
    """A query or insert failed (bad SQL, bad data, server refused)."""


class WarehouseUnavailable(WarehouseError):
    """The warehouse cannot be reached now; retrying later may succeed."""
