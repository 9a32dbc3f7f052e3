-- The public intake (docs/intake.md). Every message is sealed; the server
-- keeps only the hash of a codename's access secret, never the codename.
CREATE TABLE intake_desk (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    desk_case_id BLOB NOT NULL CHECK (length(desk_case_id) = 16),
    generation INTEGER NOT NULL CHECK (generation >= 0),
    public_key BLOB NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE intake_conversations (
    conversation_id BLOB PRIMARY KEY CHECK (length(conversation_id) = 16),
    access_hash BLOB NOT NULL UNIQUE CHECK (length(access_hash) = 32),
    reply_public BLOB NOT NULL,
    path TEXT NOT NULL CHECK (path IN ('browser', 'server')),
    referred INTEGER NOT NULL CHECK (referred IN (0, 1)),
    status TEXT NOT NULL CHECK (status IN ('open', 'dismissed', 'opened')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    entry_count INTEGER NOT NULL DEFAULT 0,
    reply_count INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX intake_conversations_by_activity ON intake_conversations (updated_at DESC, conversation_id);

CREATE TABLE intake_entries (
    conversation_id BLOB NOT NULL REFERENCES intake_conversations (conversation_id),
    seq INTEGER NOT NULL CHECK (seq >= 1),
    sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) STRICT;

CREATE TABLE intake_replies (
    conversation_id BLOB NOT NULL REFERENCES intake_conversations (conversation_id),
    seq INTEGER NOT NULL CHECK (seq >= 1),
    sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) STRICT;

CREATE TABLE intake_referrals (
    code_hash BLOB PRIMARY KEY CHECK (length(code_hash) = 32),
    uses_left INTEGER NOT NULL CHECK (uses_left >= 0),
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE invite_intake_keys (
    invite_id BLOB PRIMARY KEY REFERENCES invites (invite_id),
    sealed BLOB NOT NULL
) STRICT;
