-- The sync log is written by every finish, the hottest write of the scheduler; measured with
-- pg_stat_statements in SyncDispatchBench, its foreign key, its ON CONFLICT and its second index were
-- about a third of the finish.
--
-- No foreign key: checking it cost a lookup and a row lock on the connection per log row. Integrity holds
-- without it: a log row is inserted only by the statement whose fenced UPDATE of sync_schedule found the
-- lease (sync_schedule keeps its foreign key, so the connection exists), and SyncStore.deleteConnection
-- deletes the log rows itself, after locking the schedule row.
ALTER TABLE sync_logs DROP CONSTRAINT IF EXISTS sync_logs_connection_id_fkey;

-- One index: the log is read per connection, newest first (GET /connections/{id}, reliability stats), and
-- sync_id is unique by construction (a fresh UUID per claim, or the id a sync-now was answered with,
-- cleared by the claim that uses it), so the key that serves the reads also identifies a row.
ALTER TABLE sync_logs DROP CONSTRAINT sync_logs_pkey;
DROP INDEX sync_logs_connection_started;
ALTER TABLE sync_logs ADD PRIMARY KEY (connection_id, started_at, sync_id);
