-- How many times a case's grants or rotation links changed. A client that
-- caches a case compares it to know when to fetch the keys again: sharing
-- or unsharing moves no chain head.
ALTER TABLE cases ADD COLUMN keys_version BIGINT NOT NULL DEFAULT 0 CHECK (keys_version >= 0);
