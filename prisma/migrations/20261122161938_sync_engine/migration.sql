-- AlterTable
ALTER TABLE "connection" ADD COLUMN     "lease_heartbeat_at" TIMESTAMPTZ(6),
ADD COLUMN     "lease_run_id" UUID,
ADD COLUMN     "lease_token" TEXT;

-- AlterTable
ALTER TABLE "sync_run" ADD COLUMN     "attempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "error_kind" TEXT,
ADD COLUMN     "job_id" UUID,
ADD COLUMN     "mode" TEXT NOT NULL DEFAULT 'incremental',
ADD COLUMN     "progress" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "scheduled_for" TIMESTAMPTZ(6);

-- CreateTable
CREATE TABLE "alert" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "connection_id" UUID NOT NULL,
    "run_id" UUID,
    "kind" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMPTZ(6),

    CONSTRAINT "alert_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "alert_connection_id_resolved_at_idx" ON "alert"("connection_id", "resolved_at");

-- CreateIndex
CREATE INDEX "sync_run_status_idx" ON "sync_run"("status");

-- CreateIndex
CREATE UNIQUE INDEX "sync_run_connection_id_scheduled_for_key" ON "sync_run"("connection_id", "scheduled_for");

-- AddForeignKey
ALTER TABLE "alert" ADD CONSTRAINT "alert_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connection"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert" ADD CONSTRAINT "alert_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "sync_run"("id") ON DELETE SET NULL ON UPDATE CASCADE;


-- Written by hand.
ALTER TABLE "sync_run" ADD CONSTRAINT "sync_run_mode_check" CHECK ("mode" IN ('incremental', 'full'));
ALTER TABLE "sync_run" ADD CONSTRAINT "sync_run_error_kind_check" CHECK ("error_kind" IS NULL OR "error_kind" IN ('auth', 'rate_limited', 'not_found', 'transient', 'permanent', 'stale', 'internal'));
ALTER TABLE "alert" ADD CONSTRAINT "alert_kind_check" CHECK ("kind" IN ('auth', 'permanent', 'dead_letter', 'rejected_records'));
