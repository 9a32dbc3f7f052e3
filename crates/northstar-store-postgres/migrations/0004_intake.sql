-- The public intake (docs/intake.md). Every message is sealed; the server
-- keeps only the hash of a codename's access secret, never the codename.
CREATE TABLE intake_desk (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    desk_case_id BYTEA NOT NULL CHECK (octet_length(desk_case_id) = 16),
    generation BIGINT NOT NULL CHECK (generation >= 0),
    public_key BYTEA NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE intake_conversations (
    conversation_id BYTEA PRIMARY KEY CHECK (octet_length(conversation_id) = 16),
    access_hash BYTEA NOT NULL UNIQUE CHECK (octet_length(access_hash) = 32),
    reply_public BYTEA NOT NULL,
    path TEXT NOT NULL CHECK (path IN ('browser', 'server')),
    referred BOOLEAN NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'dismissed', 'opened')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    entry_count BIGINT NOT NULL DEFAULT 0,
    reply_count BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX intake_conversations_by_activity ON intake_conversations (updated_at DESC, conversation_id);

CREATE TABLE intake_entries (
    conversation_id BYTEA NOT NULL REFERENCES intake_conversations (conversation_id),
    seq BIGINT NOT NULL CHECK (seq >= 1),
    sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);

CREATE TABLE intake_replies (
    conversation_id BYTEA NOT NULL REFERENCES intake_conversations (conversation_id),
    seq BIGINT NOT NULL CHECK (seq >= 1),
    sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);

CREATE TABLE intake_referrals (
    code_hash BYTEA PRIMARY KEY CHECK (octet_length(code_hash) = 32),
    uses_left BIGINT NOT NULL CHECK (uses_left >= 0),
    created_at BIGINT NOT NULL
);

CREATE TABLE invite_intake_keys (
    invite_id BYTEA PRIMARY KEY REFERENCES invites (invite_id),
    sealed BYTEA NOT NULL
);
