-- Version 9: the architecture a run ran on, as its kernel's uname -m says
-- it (the guest's hello record: x86_64, aarch64), so runs of different
-- architectures are never compared.  Every guest before this version was
-- booted by qemu-system-x86_64; what a host run ran on was not recorded
-- ('', compared only with other such runs or with --force).
ALTER TABLE runs ADD COLUMN arch TEXT NOT NULL DEFAULT '';
UPDATE runs SET arch = 'x86_64' WHERE accel != 'host';
