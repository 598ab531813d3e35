-- Version 3: 'tcg-icount' joins the accelerators: TCG with QEMU's
-- instruction counter as the guest clock.  Its timings count guest
-- instructions, so they are never compared with tcg's.  SQLite cannot
-- change a CHECK in place: the table is copied (foreign keys are off
-- while migrations run, so the copy keeps every sample).
CREATE TABLE runs_v3 (
	id            INTEGER PRIMARY KEY,
	session       TEXT NOT NULL,		-- one invocation, one or two boots
	machine_id    INTEGER NOT NULL REFERENCES machines(id),
	kernel_id     INTEGER NOT NULL REFERENCES kernels(id),
	bench         TEXT NOT NULL,
	bench_version INTEGER NOT NULL,
	params        TEXT NOT NULL,		-- canonical "name=value,..."
	accel         TEXT NOT NULL CHECK (accel IN ('host', 'kvm', 'tcg', 'tcg-icount')),
	guest_mem_mb  INTEGER,			-- NULL on the host
	guest_cpus    INTEGER,
	status        TEXT NOT NULL CHECK (status IN ('ok', 'skip', 'failed', 'incomplete')),
	reason        TEXT NOT NULL DEFAULT '',
	started_at    TEXT NOT NULL,
	wall_s        REAL,			-- the whole boot's wall time
	command       TEXT NOT NULL DEFAULT '',
	console_log   TEXT NOT NULL DEFAULT ''
);
INSERT INTO runs_v3 SELECT * FROM runs;
DROP TABLE runs;
ALTER TABLE runs_v3 RENAME TO runs;
CREATE INDEX runs_by_bench ON runs (bench, kernel_id);
CREATE INDEX runs_by_session ON runs (session);
