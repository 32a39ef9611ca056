"""Contract events straight into the warehouse, through the same decoder and sink as ingest but without Kafka:
for benchmarks and tests that need a city's data, not its transport."""
from __future__ import annotations

import threading

import msgspec

from domain.topics import route
from ingest.decode import Decoder
from ingest.sink import Batch, write_batch
from streams.kafka_io import Record
from warehouse import Warehouse

CHUNK = 20_000


def store_events(warehouse: Warehouse, decoder: Decoder, events: list[dict]) -> int:
    """Decode and insert ``events`` (dicts of any family) in batches; returns the rows stored (rejects
    excluded). Each event gets a made-up Kafka position: its index on its topic's partition 0."""
    encode = msgspec.json.Encoder().encode
    stored = 0
    for start in range(0, len(events), CHUNK):
        records = []
        for offset, event in enumerate(events[start:start + CHUNK], start):
            topic, key = route(event)
            records.append(Record(topic, 0, offset, key.encode(), encode(event)))
        batch = Batch()
        batch.add(records, decoder.decode_batch(records))
        if not write_batch(warehouse, batch, threading.Event()):
            raise RuntimeError("warehouse unavailable")
        stored += sum(count.rows for count in batch.counts.values())
    return stored
