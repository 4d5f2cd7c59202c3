-- The PostgreSQL roles of the worker and of the operators' `npm run ops`, each with exactly the grants it needs
-- (spec/database.md section 7 for the worker). Run once, as the database owner, on the existing database:
--   psql "$OWNER_DATABASE_URL" -v ON_ERROR_STOP=1 -f docs/database-roles.sql
-- then give each role its password (docs/operations.md, "Database roles"); no password is written here.
-- The local stack and every test apply this same file, so the worker and the ops CLI run there with these grants
-- and nothing more.

-- The worker claims, completes and fails predictions and marks uploads processed.
CREATE ROLE retainwise_worker LOGIN;
GRANT SELECT, UPDATE (status, s3_output_key, rows_processed, metrics_json, error_message, updated_at)
    ON predictions TO retainwise_worker;
GRANT SELECT, UPDATE (status, updated_at) ON uploads TO retainwise_worker;

-- The operator reads the status of predictions and the upload a requeue names, and moves a row between QUEUED
-- (redrive, requeue) and FAILED (sweep --fail). It never sees results, metrics or the users table.
CREATE ROLE retainwise_operator LOGIN;
GRANT SELECT (id, upload_id, user_id, status, error_message, created_at, updated_at),
      UPDATE (status, error_message, updated_at)
    ON predictions TO retainwise_operator;
GRANT SELECT (id, user_id, s3_object_key) ON uploads TO retainwise_operator;
