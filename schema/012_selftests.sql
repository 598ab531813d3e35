-- Version 12: the kernel's mm selftests (the selftests step).  Each TAP
-- case is a sample of its run, "case.PROG.N", value 1 when not ok and 0
-- when ok or skipped, its note "RESULT: description" followed by the skip
-- reason or the output before a failure; this view reads them as rows.
-- Programs the guest could not run are "unrun.PROG" samples (counted
-- apart), each program's totals "passed.PROG", "failed.PROG",
-- "skipped.PROG", "missing.PROG" and "exit.PROG".
CREATE VIEW selftest_cases AS
SELECT run_id,
       substr(rtrim(metric, '0123456789'), 6, length(rtrim(metric, '0123456789')) - 6) AS program,
       CAST(substr(metric, length(rtrim(metric, '0123456789')) + 1) AS INTEGER) AS number,
       CASE WHEN note LIKE 'not ok: %' THEN 'not ok' WHEN note LIKE 'skip: %' THEN 'skip' ELSE 'ok' END AS result,
       substr(note, instr(note, ': ') + 2) AS detail
FROM samples WHERE metric LIKE 'case.%';
