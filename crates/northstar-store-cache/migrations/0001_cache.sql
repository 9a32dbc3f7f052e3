-- The client's local cache. Every blob is sealed by the client under a key
-- derived from the account root key; this database never sees a plaintext.
-- In the clear: case ids (the server knows them too), how many entries of
-- each case are held, the hash of the last one and the case's keys version,
-- so a sync can tell what to fetch without opening anything (the server knows
-- all of these too). The sealed state repeats them and is what counts.

CREATE TABLE meta (
    name  TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

CREATE TABLE cases (
    case_id        BLOB    NOT NULL PRIMARY KEY CHECK (length(case_id) = 16),
    len            INTEGER NOT NULL CHECK (len >= 0),
    head_hash      BLOB    NOT NULL CHECK (length(head_hash) = 32),
    keys_version   INTEGER NOT NULL CHECK (keys_version >= 0),
    -- The compartment keys opened so far (opened once, kept symmetric).
    sealed_keys    BLOB    NOT NULL,
    -- The verified chain head, the member's grants and the folded case.
    sealed_state   BLOB    NOT NULL
) STRICT;

-- What a list or a search needs: alias, stage, priority, searchable text.
-- A table of its own: a list or a search reads every listing, and next to
-- the state (about a kilobyte a case, often on overflow pages) that scan
-- would read five times the bytes it needs.
CREATE TABLE listings (
    case_id        BLOB NOT NULL PRIMARY KEY CHECK (length(case_id) = 16),
    sealed_listing BLOB NOT NULL
) STRICT;

-- The highest head ever verified per case, kept when the case itself leaves
-- the cache (the member lost access, for now): if access comes back, a
-- server that serves less is still caught. Known to the server too.
CREATE TABLE known_heads (
    case_id BLOB    NOT NULL PRIMARY KEY CHECK (length(case_id) = 16),
    seq     INTEGER NOT NULL CHECK (seq >= 0),
    hash    BLOB    NOT NULL CHECK (length(hash) = 32)
) STRICT;
