-- Who may use the API: people (staff and parents) with sessions, other systems with API keys, and the
-- audit log of reads of children's records and of changes of access.

-- A person who signs in. Not school-owned: one teacher or parent may belong to several schools
-- (app_membership says where and as what).
CREATE TABLE "app_user" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "kind" TEXT NOT NULL,
    "login" TEXT NOT NULL,
    "password_hash" TEXT,
    "password_changed_at" TIMESTAMPTZ(6),
    "disabled_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "app_user_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "app_user_kind_check" CHECK ("kind" IN ('staff', 'parent'))
);
CREATE UNIQUE INDEX "app_user_login_key" ON "app_user"("login");

-- A user's standing in one school: roles, and the journal person they are there (a teacher, a parent).
CREATE TABLE "app_membership" (
    "school_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "person_id" UUID,
    "roles" TEXT[] NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "app_membership_pkey" PRIMARY KEY ("school_id","user_id")
);
CREATE INDEX "app_membership_user_id_idx" ON "app_membership"("user_id");
ALTER TABLE "app_membership" ADD CONSTRAINT "app_membership_school_id_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "app_membership" ADD CONSTRAINT "app_membership_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A signed-in session: the token is kept as its SHA-256 only.
CREATE TABLE "auth_session" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "token_hash" BYTEA NOT NULL,
    "user_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(6),
    "revoked_at" TIMESTAMPTZ(6),

    CONSTRAINT "auth_session_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "auth_session_kind_check" CHECK ("kind" IN ('cookie', 'bearer'))
);
CREATE UNIQUE INDEX "auth_session_token_hash_key" ON "auth_session"("token_hash");
CREATE INDEX "auth_session_user_id_idx" ON "auth_session"("user_id");
ALTER TABLE "auth_session" ADD CONSTRAINT "auth_session_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A key of another system: the secret part is kept as an HMAC under a server key; school_ids NULL is a
-- region-level key (every school).
CREATE TABLE "api_key" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "lookup" TEXT NOT NULL,
    "secret_hmac" BYTEA NOT NULL,
    "name" TEXT NOT NULL,
    "school_ids" UUID[],
    "scopes" TEXT[] NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6),
    "revoked_at" TIMESTAMPTZ(6),
    "last_used_at" TIMESTAMPTZ(6),
    "rotated_from" UUID,

    CONSTRAINT "api_key_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "api_key_lookup_key" ON "api_key"("lookup");

-- A one-time sign-in code: kept as an HMAC; the address it went to as a SHA-256.
CREATE TABLE "one_time_code" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "code_hmac" BYTEA NOT NULL,
    "channel" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "used_at" TIMESTAMPTZ(6),

    CONSTRAINT "one_time_code_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "one_time_code_user_id_idx" ON "one_time_code"("user_id", "created_at");
ALTER TABLE "one_time_code" ADD CONSTRAINT "one_time_code_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "app_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Fixed-window counters shared by every process (one-time codes per phone, per address, per school).
CREATE TABLE "auth_rate" (
    "bucket" TEXT NOT NULL,
    "window_start" TIMESTAMPTZ(6) NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "auth_rate_pkey" PRIMARY KEY ("bucket","window_start")
);

-- The audit log: append-only for the application's role (db/roles.ts), hash-chained per school like
-- journal_event. Region-level entries (a key for every school) use the nil school id.
CREATE TABLE "audit_log" (
    "school_id" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "at" TIMESTAMPTZ(6) NOT NULL,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "object_type" TEXT NOT NULL,
    "object_ids" TEXT[] NOT NULL,
    "detail" JSON,
    "hash" BYTEA NOT NULL,

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("school_id","seq")
);

CREATE TABLE "audit_head" (
    "school_id" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "hash" BYTEA NOT NULL,

    CONSTRAINT "audit_head_pkey" PRIMARY KEY ("school_id")
);
