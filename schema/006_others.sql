-- Version 6: a boot timed by the host's clock waits for the machine to be
-- quiet and records the CPUs' worth of work that ran beside it outside
-- its own cgroup (the machine's busy time, the hypervisor's steal
-- included, less its own), NULL when not measured (instruction-clock
-- boots, the host, no cgroup to tell ours apart).  Above 0.2 the run is
-- not alone (runs.alone = 0).
ALTER TABLE runs ADD COLUMN others_cpus REAL;
