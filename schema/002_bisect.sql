-- Bisections and every step of them, so a bisection can be resumed after
-- an interruption and shown in the report.
CREATE TABLE bisections (
	id         INTEGER PRIMARY KEY,
	key        TEXT NOT NULL UNIQUE,	-- hash of tree, ends, bench, metric
	tree       TEXT NOT NULL,
	good       TEXT NOT NULL,		-- commit ids
	bad        TEXT NOT NULL,
	bench      TEXT NOT NULL,
	metric     TEXT NOT NULL,
	status     TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'found', 'failed')),
	first_bad  TEXT NOT NULL DEFAULT '',
	reason     TEXT NOT NULL DEFAULT '',
	started_at TEXT NOT NULL
);

CREATE TABLE bisect_steps (
	bisection_id INTEGER NOT NULL REFERENCES bisections(id) ON DELETE CASCADE,
	commit_id    TEXT NOT NULL,
	run_id       INTEGER REFERENCES runs(id),
	value        REAL,			-- median of the metric, NULL when skipped
	decision     TEXT NOT NULL CHECK (decision IN ('good', 'bad', 'skip')),
	reason       TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (bisection_id, commit_id)
);
