-- Version 11: KCIDB's patchset_hash of a kernel's patches (sha256 over
-- each patch file's sha256, newline-terminated, in the order applied).
-- '' for a kernel without patches, and for one stored before this
-- version (then unknown: the export leaves it out).
ALTER TABLE kernels ADD COLUMN patchset_sha256 TEXT NOT NULL DEFAULT '';
