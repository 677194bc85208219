-- Claiming and renewing a lease change only columns no index covers, so PostgreSQL can update the row in
-- place (a HOT update, no index writes): the lease index goes (heartbeats and releases find rows by their
-- primary key), the plain next_sync_at index goes (the claim walks sync_schedule_claim_order), and pages
-- keep room for the new row versions.
DROP INDEX IF EXISTS sync_schedule_lease;
DROP INDEX IF EXISTS sync_schedule_due;
ALTER TABLE sync_schedule SET (fillfactor = 70);
