-- Where a school's personal data may be stored (ISO 3166 codes: 'RU', 'RU-MOW', 'KG'); a backup target
-- must lie within every school's list (src/archive/backup-jurisdiction.ts). NULL: the school's country.
ALTER TABLE "school" ADD COLUMN "data_regions" TEXT[];

-- One backup of the database (src/archive/backup.ts): region-level, not school-owned (a backup holds
-- every school of the database). A nightly run's slot is unique, so schedulers queue it once.
CREATE TABLE "backup_run" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "reason" TEXT NOT NULL,
    "slot" TIMESTAMPTZ(6),
    "name" TEXT,
    "method" TEXT,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "queued_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(6),
    "finished_at" TIMESTAMPTZ(6),
    "targets" JSONB NOT NULL DEFAULT '[]',
    "manifest_sha256" TEXT,
    "error" TEXT,

    CONSTRAINT "backup_run_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "backup_run_slot_key" ON "backup_run"("slot");
CREATE INDEX "backup_run_queued_at_idx" ON "backup_run"("queued_at");
ALTER TABLE "backup_run" ADD CONSTRAINT "backup_run_reason_check" CHECK ("reason" IN ('nightly', 'period_close', 'manual'));
ALTER TABLE "backup_run" ADD CONSTRAINT "backup_run_status_check" CHECK ("status" IN ('queued', 'running', 'succeeded', 'partial', 'failed'));
