-- The request slots of each platform host and credential, shared by every process (src/sync/host-gate.ts).
-- Not school-owned: a platform account may serve several schools; the credential is a hash, never the secret.
CREATE TABLE "platform_rate_limit" (
    "host" TEXT NOT NULL,
    "credential_hash" TEXT NOT NULL,
    "next_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "platform_rate_limit_pkey" PRIMARY KEY ("host","credential_hash")
);

-- The circuit breaker of each platform host: consecutive transient failures, and until when it is open.
CREATE TABLE "platform_breaker" (
    "host" TEXT NOT NULL,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "open_until" TIMESTAMPTZ(6),
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "platform_breaker_pkey" PRIMARY KEY ("host")
);

-- A run refused by an open breaker waits in the queue with error kind 'unavailable' (hand-written: Prisma cannot express it).
ALTER TABLE "sync_run" DROP CONSTRAINT "sync_run_error_kind_check";
ALTER TABLE "sync_run" ADD CONSTRAINT "sync_run_error_kind_check"
  CHECK ("error_kind" IS NULL OR "error_kind" IN ('auth', 'rate_limited', 'not_found', 'transient', 'permanent', 'stale', 'internal', 'unavailable'));
