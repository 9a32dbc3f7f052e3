-- The Northstar store on PostgreSQL. Ids are 16-byte BYTEA, times Unix seconds.
-- Text that is compared (names, usernames) uses the "C" collation: equal
-- means byte-for-byte equal, whatever the database's default collation.

-- Server-wide secrets (cookie and OPAQUE server keys), put once.
CREATE TABLE secrets (
    name  TEXT COLLATE "C" NOT NULL,
    value BYTEA NOT NULL,
    CONSTRAINT secrets_pkey PRIMARY KEY (name)
);

-- The one organization of this server: at most one row. Its row lock also
-- serializes appends to the membership chain.
CREATE TABLE org (
    singleton       SMALLINT NOT NULL DEFAULT 1 CHECK (singleton = 1),
    org_id          BYTEA    NOT NULL CHECK (octet_length(org_id) = 16),
    name            TEXT     NOT NULL,
    root_public_key BYTEA    NOT NULL,
    created_at      BIGINT   NOT NULL,
    CONSTRAINT org_pkey PRIMARY KEY (singleton)
);

CREATE TABLE accounts (
    -- Insertion order, to break ties between equal created_at.
    position      BIGINT GENERATED ALWAYS AS IDENTITY,
    account_id    BYTEA  NOT NULL CHECK (octet_length(account_id) = 16),
    username      TEXT COLLATE "C" NOT NULL,
    opaque_record BYTEA  NOT NULL,
    slot          BYTEA  NOT NULL,
    keybox        BYTEA  NOT NULL,
    org_root_box  BYTEA,
    signing_key   BYTEA  NOT NULL,
    agreement_key BYTEA  NOT NULL,
    role          TEXT,
    status        TEXT   NOT NULL CHECK (status IN ('pending', 'active', 'removed')),
    invite_id     BYTEA  CHECK (invite_id IS NULL OR octet_length(invite_id) = 16),
    join_proof    BYTEA,
    created_at    BIGINT NOT NULL,
    CONSTRAINT accounts_pkey PRIMARY KEY (position),
    CONSTRAINT accounts_account_id_key UNIQUE (account_id),
    CONSTRAINT accounts_username_key UNIQUE (username)
);
CREATE INDEX accounts_by_age ON accounts (created_at, position);

-- The membership chain: link `seq` is the chain's seq-th link, from 0, no gaps.
CREATE TABLE membership_links (
    seq  BIGINT NOT NULL CHECK (seq >= 0),
    link BYTEA  NOT NULL,
    CONSTRAINT membership_links_pkey PRIMARY KEY (seq)
);

CREATE TABLE invites (
    position      BIGINT GENERATED ALWAYS AS IDENTITY,
    invite_id     BYTEA  NOT NULL CHECK (octet_length(invite_id) = 16),
    role          TEXT   NOT NULL,
    created_by    BYTEA  NOT NULL REFERENCES accounts (account_id),
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_by       BYTEA  REFERENCES accounts (account_id),
    used_at       BIGINT,
    sealed_secret BYTEA  NOT NULL,
    CONSTRAINT invites_pkey PRIMARY KEY (position),
    CONSTRAINT invites_invite_id_key UNIQUE (invite_id),
    CHECK ((used_by IS NULL) = (used_at IS NULL))
);
CREATE INDEX invites_by_age ON invites (created_at, position);

CREATE TABLE sessions (
    token_hash BYTEA  NOT NULL CHECK (octet_length(token_hash) = 32),
    account_id BYTEA  NOT NULL REFERENCES accounts (account_id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    CONSTRAINT sessions_pkey PRIMARY KEY (token_hash)
);
CREATE INDEX sessions_by_account ON sessions (account_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE login_states (
    login_id     BYTEA  NOT NULL CHECK (octet_length(login_id) = 16),
    -- No foreign key: a sign-in for an unknown name runs under a dummy id, so
    -- that the answer looks the same whether or not the name exists.
    account_id   BYTEA  NOT NULL CHECK (octet_length(account_id) = 16),
    sealed_state BYTEA  NOT NULL,
    expires_at   BIGINT NOT NULL,
    CONSTRAINT login_states_pkey PRIMARY KEY (login_id)
);
CREATE INDEX login_states_by_expiry ON login_states (expires_at);
CREATE INDEX login_states_by_account ON login_states (account_id);
