-- Who asked for a backup by hand (an actor: `user:<id>`, `api:<key id>`, `cli`), NULL for the schedule's.
ALTER TABLE "backup_run" ADD COLUMN "actor" TEXT;

-- One restore drill (src/archive/backup-drill.ts): the newest backup that verifies restored into a fresh
-- database and compared with its source. Region-level like backup_run (a backup holds every school).
CREATE TABLE "backup_drill" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "status" TEXT NOT NULL DEFAULT 'queued',
    "actor" TEXT,
    "only_target" TEXT,
    "queued_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(6),
    "finished_at" TIMESTAMPTZ(6),
    "backup" TEXT,
    "target" TEXT,
    "report" JSONB,
    "error" TEXT,

    CONSTRAINT "backup_drill_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "backup_drill_queued_at_idx" ON "backup_drill"("queued_at");
ALTER TABLE "backup_drill" ADD CONSTRAINT "backup_drill_status_check" CHECK ("status" IN ('queued', 'running', 'passed', 'failed'));
