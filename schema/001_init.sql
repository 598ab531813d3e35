-- reclaimbench results database, version 1.
-- Every repetition is stored raw; a run and its samples land in one
-- transaction.  A run row carries what makes results comparable or not.

CREATE TABLE machines (
	id          INTEGER PRIMARY KEY,
	fingerprint TEXT NOT NULL UNIQUE,	-- hash of the fields below
	hostname    TEXT NOT NULL,
	cpu_model   TEXT NOT NULL,
	ncpu        INTEGER NOT NULL,
	mem_kb      INTEGER NOT NULL,
	host_kernel TEXT NOT NULL
);

-- What the benchmarks ran on: the host's own kernel, or a variant we built.
CREATE TABLE kernels (
	id           INTEGER PRIMARY KEY,
	release      TEXT NOT NULL,		-- uname -r seen by the benchmarks
	version      TEXT NOT NULL,		-- uname -v
	variant      TEXT NOT NULL DEFAULT '',	-- variant name, '' for the host kernel
	build_id     TEXT NOT NULL DEFAULT '',	-- hash of source, patches, config, compiler
	source       TEXT NOT NULL DEFAULT '',
	patches_hash TEXT NOT NULL DEFAULT '',
	config_hash  TEXT NOT NULL DEFAULT '',
	cmdline      TEXT NOT NULL DEFAULT '',
	UNIQUE (release, version, variant, build_id)
);

-- One benchmark executed once (all its repetitions) in one session.
CREATE TABLE runs (
	id            INTEGER PRIMARY KEY,
	session       TEXT NOT NULL,		-- one invocation or boot
	machine_id    INTEGER NOT NULL REFERENCES machines(id),
	kernel_id     INTEGER NOT NULL REFERENCES kernels(id),
	bench         TEXT NOT NULL,
	bench_version INTEGER NOT NULL,
	params        TEXT NOT NULL,		-- canonical "name=value,..."
	accel         TEXT NOT NULL CHECK (accel IN ('host', 'kvm', 'tcg')),
	guest_mem_mb  INTEGER,			-- NULL on the host
	guest_cpus    INTEGER,
	status        TEXT NOT NULL CHECK (status IN ('ok', 'skip', 'failed', 'incomplete')),
	reason        TEXT NOT NULL DEFAULT '',
	started_at    TEXT NOT NULL,
	wall_s        REAL,			-- the whole session's wall time
	command       TEXT NOT NULL DEFAULT '',
	console_log   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_bench ON runs (bench, kernel_id);
CREATE INDEX runs_by_session ON runs (session);

CREATE TABLE samples (
	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	rep    INTEGER NOT NULL,
	metric TEXT NOT NULL,
	value  REAL,				-- NULL: unsupported here (see note)
	unit   TEXT NOT NULL,
	note   TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (run_id, metric, rep)
) WITHOUT ROWID;
