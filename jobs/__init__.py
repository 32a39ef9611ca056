"""The long-running jobs of ``run_cockpit.py`` and their supervision: restarts with capped backoff, and each
job's heartbeat in the warehouse. This stage sits with the entry point, above every other: it wires streams,
alerts, the warehouse and (for ``demo`` and ``serve`` only, in ``jobs.demo``) the cockpit together."""
