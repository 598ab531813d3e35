-- Version 7: whether a run's repetitions are in a steady state.  The
-- main timing of its timed repetitions, in repetition order, by the
-- Mann-Kendall trend test: Kendall's tau against the repetition index, the
-- two-sided p, and the drift (Sen's slope over the run, a fraction of the
-- median; negative when the repetitions fell).  A run whose repetitions
-- trend (p < 0.05 and a drift of 2% or more) gets no timing verdict.
-- NULL: fewer than three timed repetitions, or stored before version 7
-- (compare computes it from the stored samples then).
ALTER TABLE runs ADD COLUMN trend_tau REAL;
ALTER TABLE runs ADD COLUMN trend_p REAL;
ALTER TABLE runs ADD COLUMN trend_drift REAL;
