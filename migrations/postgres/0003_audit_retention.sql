-- Audit retention: rows older than the configured retention may be pruned, never silently: an
-- explicit command archives them to a file first and records a `prune` row. The chain then starts
-- after the pruned rows; the seal keeps where (first_seq) and from which hash (base_hash), so
-- verification still covers every row that remains.
ALTER TABLE audit_seal ADD COLUMN first_seq BIGINT NOT NULL DEFAULT 1;
ALTER TABLE audit_seal ADD COLUMN base_hash TEXT NOT NULL DEFAULT '';
