-- Worker liveness: each worker process upserts its row every few seconds and deletes it when it stops gracefully.
-- /readyz and the live patch state read the newest row of a task queue; rows of killed workers simply age.
-- last_seen is the database's clock, so workers and API instances on hosts with skewed clocks still agree.
CREATE TABLE worker_heartbeats (
  worker_id  text PRIMARY KEY,
  task_queue text NOT NULL,
  host       text NOT NULL,
  pid        integer NOT NULL CHECK (pid > 0),
  started_at timestamptz NOT NULL DEFAULT now(),
  last_seen  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX worker_heartbeats_task_queue_last_seen ON worker_heartbeats (task_queue, last_seen DESC);
