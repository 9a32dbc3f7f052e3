-- The Northstar store on SQLite. Ids are 16-byte blobs, times Unix seconds.
-- Every table is STRICT, so a value of the wrong type is refused, not coerced.

-- Server-wide secrets (cookie and OPAQUE server keys), put once.
CREATE TABLE secrets (
    name  TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

-- The one organization of this server: at most one row.
CREATE TABLE org (
    singleton       INTEGER NOT NULL PRIMARY KEY CHECK (singleton = 1),
    org_id          BLOB    NOT NULL CHECK (length(org_id) = 16),
    name            TEXT    NOT NULL,
    root_public_key BLOB    NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE accounts (
    -- Insertion order, to break ties between equal created_at.
    position      INTEGER PRIMARY KEY,
    account_id    BLOB    NOT NULL UNIQUE CHECK (length(account_id) = 16),
    username      TEXT    NOT NULL UNIQUE,
    opaque_record BLOB    NOT NULL,
    slot          BLOB    NOT NULL,
    keybox        BLOB    NOT NULL,
    org_root_box  BLOB,
    signing_key   BLOB    NOT NULL,
    agreement_key BLOB    NOT NULL,
    role          TEXT,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'active', 'removed')),
    invite_id     BLOB    CHECK (invite_id IS NULL OR length(invite_id) = 16),
    join_proof    BLOB,
    created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX accounts_by_age ON accounts (created_at, position);

-- The membership chain: link `seq` is the chain's seq-th link, from 0, no gaps.
CREATE TABLE membership_links (
    seq  INTEGER NOT NULL PRIMARY KEY CHECK (seq >= 0),
    link BLOB    NOT NULL
) STRICT;

CREATE TABLE invites (
    position      INTEGER PRIMARY KEY,
    invite_id     BLOB    NOT NULL UNIQUE CHECK (length(invite_id) = 16),
    role          TEXT    NOT NULL,
    created_by    BLOB    NOT NULL REFERENCES accounts (account_id),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_by       BLOB    REFERENCES accounts (account_id),
    used_at       INTEGER,
    sealed_secret BLOB    NOT NULL,
    CHECK ((used_by IS NULL) = (used_at IS NULL))
) STRICT;
CREATE INDEX invites_by_age ON invites (created_at, position);

CREATE TABLE sessions (
    token_hash BLOB    NOT NULL PRIMARY KEY CHECK (length(token_hash) = 32),
    account_id BLOB    NOT NULL REFERENCES accounts (account_id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_by_account ON sessions (account_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE login_states (
    login_id     BLOB    NOT NULL PRIMARY KEY CHECK (length(login_id) = 16),
    -- No foreign key: a sign-in for an unknown name runs under a dummy id, so
    -- that the answer looks the same whether or not the name exists.
    account_id   BLOB    NOT NULL CHECK (length(account_id) = 16),
    sealed_state BLOB    NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX login_states_by_expiry ON login_states (expires_at);
CREATE INDEX login_states_by_account ON login_states (account_id);
