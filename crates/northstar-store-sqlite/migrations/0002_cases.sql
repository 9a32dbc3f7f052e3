-- Cases: sealed, signed entries in a hash chain per case, the compartment keys
-- sealed to members (grants), and the links between key generations
-- (rotations). The server sees ids, positions, generations and opaque blobs.

-- A case as the server knows it: its creator and the head of its chain.
-- The row is also the chain's lock: appends read and move `len` and
-- `head_hash` under SQLite's one write lock (BEGIN IMMEDIATE).
CREATE TABLE cases (
    case_id    BLOB    NOT NULL PRIMARY KEY CHECK (length(case_id) = 16),
    created_by BLOB    NOT NULL REFERENCES accounts (account_id),
    created_at INTEGER NOT NULL,
    -- How many entries the chain has: entries 0 .. len - 1, no gaps.
    len        INTEGER NOT NULL CHECK (len >= 0),
    -- The hash of the last entry (all zero while the chain is empty).
    head_hash  BLOB    NOT NULL CHECK (length(head_hash) = 32)
) STRICT;

-- Entry `seq` is the case's seq-th entry, from 0.
CREATE TABLE case_entries (
    case_id     BLOB    NOT NULL REFERENCES cases (case_id),
    seq         INTEGER NOT NULL CHECK (seq >= 0),
    compartment INTEGER NOT NULL CHECK (compartment BETWEEN 0 AND 255),
    record_id   BLOB    NOT NULL CHECK (length(record_id) = 16),
    generation  INTEGER NOT NULL CHECK (generation BETWEEN 0 AND 4294967295),
    -- The sealed entry (NSRE).
    entry       BLOB    NOT NULL,
    -- The wrap of the entry's data key (NSKW); NULL once shredded.
    wrap        BLOB,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (case_id, seq)
) STRICT;
CREATE INDEX case_entries_by_record ON case_entries (case_id, compartment, record_id);

-- A compartment key of one generation sealed to one member. The key is
-- (case_id, compartment, generation, recipient). It is a UNIQUE constraint
-- rather than the primary key so that `position`, an alias of the rowid,
-- keeps insertion order (for "oldest first") even across VACUUM, which may
-- renumber the rowids of tables without an INTEGER PRIMARY KEY. (In a rowid
-- table a composite primary key is only a unique index anyway.)
CREATE TABLE grants (
    position     INTEGER PRIMARY KEY,
    case_id      BLOB    NOT NULL REFERENCES cases (case_id),
    compartment  INTEGER NOT NULL CHECK (compartment BETWEEN 0 AND 255),
    generation   INTEGER NOT NULL CHECK (generation BETWEEN 0 AND 4294967295),
    recipient    BLOB    NOT NULL REFERENCES accounts (account_id),
    granted_by   BLOB    NOT NULL REFERENCES accounts (account_id),
    -- The sealed grant (NSGR).
    sealed_grant BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (case_id, compartment, generation, recipient)
) STRICT;
CREATE INDEX grants_by_case_age ON grants (case_id, created_at, position);
CREATE INDEX grants_by_recipient ON grants (recipient, case_id);

-- A rotation link: generation new_generation - 1 sealed under new_generation.
-- Keyed by (case_id, compartment, new_generation); `position` as in grants.
CREATE TABLE rotations (
    position       INTEGER PRIMARY KEY,
    case_id        BLOB    NOT NULL REFERENCES cases (case_id),
    compartment    INTEGER NOT NULL CHECK (compartment BETWEEN 0 AND 255),
    new_generation INTEGER NOT NULL CHECK (new_generation BETWEEN 0 AND 4294967295),
    -- The sealed link (NSRT).
    link           BLOB    NOT NULL,
    created_at     INTEGER NOT NULL,
    UNIQUE (case_id, compartment, new_generation)
) STRICT;
CREATE INDEX rotations_by_case_age ON rotations (case_id, created_at, position);
