-- Version 8: the clock that timed a run, as the guest (or host) reported
-- it in its hello record: the kernel's clocksource ('' when not known) and
-- the smallest nonzero step of CLOCK_MONOTONIC read back to back, in ns
-- (NULL when not measured).  A timing difference smaller than that step is
-- never called a change.
ALTER TABLE runs ADD COLUMN clocksource TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN clock_step_ns REAL;
