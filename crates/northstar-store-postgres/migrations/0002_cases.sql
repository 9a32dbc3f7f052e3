-- Cases: sealed, signed entries in a hash chain per case, the compartment keys
-- sealed to members (grants), and the links between key generations
-- (rotations). The server sees ids, positions, generations and opaque blobs.
-- Unsigned Rust integers are stored in the next wider signed type, with a
-- CHECK for their range (u8 in SMALLINT, u32 in BIGINT).

-- A case as the server knows it: its creator and the head of its chain.
-- Its row lock (SELECT … FOR UPDATE) serializes appends to its chain and
-- changes to its grants.
CREATE TABLE cases (
    case_id    BYTEA  NOT NULL CHECK (octet_length(case_id) = 16),
    created_by BYTEA  NOT NULL REFERENCES accounts (account_id),
    created_at BIGINT NOT NULL,
    -- How many entries the chain has: entries 0 .. len - 1, no gaps.
    len        BIGINT NOT NULL CHECK (len >= 0),
    -- The hash of the last entry (all zero while the chain is empty).
    head_hash  BYTEA  NOT NULL CHECK (octet_length(head_hash) = 32),
    CONSTRAINT cases_pkey PRIMARY KEY (case_id)
);

-- Entry `seq` is the case's seq-th entry, from 0.
CREATE TABLE case_entries (
    case_id     BYTEA    NOT NULL REFERENCES cases (case_id),
    seq         BIGINT   NOT NULL CHECK (seq >= 0),
    compartment SMALLINT NOT NULL CHECK (compartment BETWEEN 0 AND 255),
    record_id   BYTEA    NOT NULL CHECK (octet_length(record_id) = 16),
    generation  BIGINT   NOT NULL CHECK (generation BETWEEN 0 AND 4294967295),
    -- The sealed entry (NSRE).
    entry       BYTEA    NOT NULL,
    -- The wrap of the entry's data key (NSKW); NULL once shredded.
    wrap        BYTEA,
    created_at  BIGINT   NOT NULL,
    CONSTRAINT case_entries_pkey PRIMARY KEY (case_id, seq)
);
CREATE INDEX case_entries_by_record ON case_entries (case_id, compartment, record_id);

-- A compartment key of one generation sealed to one member.
CREATE TABLE grants (
    -- Insertion order, to break ties between equal created_at.
    position     BIGINT   GENERATED ALWAYS AS IDENTITY,
    case_id      BYTEA    NOT NULL REFERENCES cases (case_id),
    compartment  SMALLINT NOT NULL CHECK (compartment BETWEEN 0 AND 255),
    generation   BIGINT   NOT NULL CHECK (generation BETWEEN 0 AND 4294967295),
    recipient    BYTEA    NOT NULL REFERENCES accounts (account_id),
    granted_by   BYTEA    NOT NULL REFERENCES accounts (account_id),
    -- The sealed grant (NSGR).
    sealed_grant BYTEA    NOT NULL,
    created_at   BIGINT   NOT NULL,
    CONSTRAINT grants_pkey PRIMARY KEY (case_id, compartment, generation, recipient)
);
CREATE INDEX grants_by_case_age ON grants (case_id, created_at, position);
CREATE INDEX grants_by_recipient ON grants (recipient, case_id);

-- A rotation link: generation new_generation - 1 sealed under new_generation.
CREATE TABLE rotations (
    position       BIGINT   GENERATED ALWAYS AS IDENTITY,
    case_id        BYTEA    NOT NULL REFERENCES cases (case_id),
    compartment    SMALLINT NOT NULL CHECK (compartment BETWEEN 0 AND 255),
    new_generation BIGINT   NOT NULL CHECK (new_generation BETWEEN 0 AND 4294967295),
    -- The sealed link (NSRT).
    link           BYTEA    NOT NULL,
    created_at     BIGINT   NOT NULL,
    CONSTRAINT rotations_pkey PRIMARY KEY (case_id, compartment, new_generation)
);
CREATE INDEX rotations_by_case_age ON rotations (case_id, created_at, position);
