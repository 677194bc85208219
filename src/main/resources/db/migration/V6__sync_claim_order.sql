-- The claim takes due connections in (priority, next_sync_at) order. With only the next_sync_at index,
-- every claim read and sorted all due rows (31 ms per claim of 16 at 20,000 due; docs/bench/sync.md);
-- this index lets it walk the order and stop after a batch (0.8 ms).
CREATE INDEX sync_schedule_claim_order ON sync_schedule (priority, next_sync_at) WHERE paused IS NULL;
