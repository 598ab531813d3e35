-- Version 5: work runs as a graph of jobs (source, build, boot) on one
-- machine or through Slurm.  Every finished job is kept: its wall time
-- estimates the next run's time left, and its state tells why a plan
-- stopped.
CREATE TABLE jobs (
	id          INTEGER PRIMARY KEY,
	plan        TEXT NOT NULL,		-- the plan's folder name in the spool
	name        TEXT NOT NULL,		-- e.g. 'build-7.3', 'boot-6.12-tcg-icount-0'
	kind        TEXT NOT NULL CHECK (kind IN ('source', 'build', 'boot')),
	label       TEXT NOT NULL,		-- the variant or source it is for
	accel       TEXT NOT NULL DEFAULT '',	-- boots only
	executor    TEXT NOT NULL,		-- 'local' or 'slurm:JOBID'
	finished_at TEXT NOT NULL,
	wall_s      REAL,
	status      TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
	reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX jobs_by_label ON jobs (kind, label, accel);
-- A boot timed on the host's clock must run with nothing else of ours
-- beside it: 1 when it did (alone on the machine, or an exclusive Slurm
-- job), 0 when other jobs ran beside it, NULL when not known (older runs,
-- the host).
ALTER TABLE runs ADD COLUMN alone INTEGER;
