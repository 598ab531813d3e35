-- Version 4: repetitions come in two kinds.  A timed repetition holds
-- nothing but the measured call in its window; a counting one runs the
-- same scenario with perf events (tracepoints among them) counting, whose
-- cost grows with the work being compared.  Every sample says which kind
-- it came from, so a timing is never taken from a counting repetition.
-- Samples stored before version 4 were all taken with perf events in the
-- window: they are 'counting'.
CREATE TABLE samples_v4 (
	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	kind   TEXT NOT NULL DEFAULT 'timed' CHECK (kind IN ('timed', 'counting')),
	rep    INTEGER NOT NULL,
	metric TEXT NOT NULL,
	value  REAL,				-- NULL: unsupported here (see note)
	unit   TEXT NOT NULL,			-- 'instr' for timings under tcg-icount
	note   TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (run_id, metric, kind, rep)
) WITHOUT ROWID;
INSERT INTO samples_v4 (run_id, kind, rep, metric, value, unit, note)
	SELECT run_id, 'counting', rep, metric, value, unit, note FROM samples;
DROP TABLE samples;
ALTER TABLE samples_v4 RENAME TO samples;
-- Under QEMU's instruction counter a "nanosecond" is one guest instruction.
UPDATE samples SET unit = 'instr' WHERE unit = 'ns'
	AND run_id IN (SELECT id FROM runs WHERE accel = 'tcg-icount');
-- The cost of our own instrumentation, per run: the median of the main
-- timing in counting repetitions over the median in timed ones, minus 1.
-- NULL when the run has no timed repetitions.
ALTER TABLE runs ADD COLUMN observer_overhead REAL;
-- Fault injection (RB_TEST_* settings) the run was made with, '' for none:
-- such runs are never data unless asked for by id or --with-faults.
ALTER TABLE runs ADD COLUMN faults TEXT NOT NULL DEFAULT '';
-- The emulator a guest ran in: QEMU's version and the CPU model it
-- offered ('' on the host).  Runs of different emulators are not compared.
ALTER TABLE runs ADD COLUMN emulator TEXT NOT NULL DEFAULT '';
