-- Version 10: a gate of a patch series names the patch at which each of
-- its verdicts changed.  One row per verdict of the whole series that
-- differs from the base, on the whole series' first run of its benchmark
-- (the run KCIDB's test and the report show it with).
CREATE TABLE series_changes (
	run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	metric   TEXT NOT NULL,
	verdict  TEXT NOT NULL,		-- as the gate said it: slower, INVARIANT CHANGED, ...
	patch    INTEGER,		-- 1..npatches; NULL: undecided (a prefix did not build or boot)
	npatches INTEGER NOT NULL,
	subject  TEXT NOT NULL DEFAULT '',	-- that patch's Subject:, untrusted text
	PRIMARY KEY (run_id, metric)
);
