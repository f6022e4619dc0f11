-- AlterTable
ALTER TABLE "school" ADD COLUMN     "primary_source_id" UUID,
ADD COLUMN     "regulation_settings" JSONB NOT NULL DEFAULT '{}';

-- AlterTable
ALTER TABLE "journal_event" ADD COLUMN     "run_id" UUID;

-- CreateTable
CREATE TABLE "event_consumer" (
    "school_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "seq" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "event_consumer_pkey" PRIMARY KEY ("school_id","name")
);

-- CreateTable
CREATE TABLE "identity_conflict" (
    "school_id" UUID NOT NULL,
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "connection_id" UUID NOT NULL,
    "entity_type" TEXT NOT NULL,
    "external_id" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "candidate_ids" UUID[],
    "run_id" UUID,
    "first_seen_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMPTZ(6),

    CONSTRAINT "identity_conflict_pkey" PRIMARY KEY ("school_id","id")
);

-- CreateTable
CREATE TABLE "discrepancy" (
    "school_id" UUID NOT NULL,
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "key" TEXT NOT NULL,
    "rule" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "severity" TEXT NOT NULL,
    "class_group_id" UUID,
    "subject_id" UUID,
    "pupil_id" UUID,
    "lesson_id" UUID,
    "period_id" UUID,
    "day" DATE,
    "source_ids" UUID[],
    "expected" JSONB,
    "found" JSONB,
    "evidence" BIGINT[],
    "fingerprint" TEXT NOT NULL,
    "assignee_id" UUID,
    "assigned_by" TEXT,
    "status" TEXT NOT NULL DEFAULT 'open',
    "status_reason" TEXT,
    "status_by" TEXT,
    "status_at" TIMESTAMPTZ(6),
    "justification" TEXT,
    "justified_by" TEXT,
    "justified_at" TIMESTAMPTZ(6),
    "first_seen_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMPTZ(6),
    "resolved_seq" BIGINT,

    CONSTRAINT "discrepancy_pkey" PRIMARY KEY ("school_id","id")
);

-- CreateTable
CREATE TABLE "lesson_claim" (
    "school_id" UUID NOT NULL,
    "lesson_id" UUID NOT NULL,
    "source_id" UUID NOT NULL,
    "field" TEXT NOT NULL,
    "value" TEXT,
    "seq" BIGINT NOT NULL,
    "at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "lesson_claim_pkey" PRIMARY KEY ("school_id","lesson_id","source_id","field")
);

-- CreateIndex
CREATE UNIQUE INDEX "identity_conflict_school_id_connection_id_entity_type_exter_key" ON "identity_conflict"("school_id", "connection_id", "entity_type", "external_id");

-- CreateIndex
CREATE INDEX "discrepancy_school_id_status_rule_idx" ON "discrepancy"("school_id", "status", "rule");

-- CreateIndex
CREATE INDEX "discrepancy_school_id_assignee_id_status_idx" ON "discrepancy"("school_id", "assignee_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "discrepancy_school_id_key_key" ON "discrepancy"("school_id", "key");


-- Hand-written (Prisma cannot express them): kinds as check constraints, references within the school.
ALTER TABLE "discrepancy" ADD CONSTRAINT "discrepancy_kind_check" CHECK ("kind" IN ('paper', 'cross_source', 'regulation', 'roster'));
ALTER TABLE "discrepancy" ADD CONSTRAINT "discrepancy_severity_check" CHECK ("severity" IN ('info', 'warning', 'severe'));
ALTER TABLE "discrepancy" ADD CONSTRAINT "discrepancy_status_check" CHECK ("status" IN ('open', 'acknowledged', 'resolved', 'dismissed'));
ALTER TABLE "discrepancy" ADD CONSTRAINT "discrepancy_dismissal_check" CHECK ("status" <> 'dismissed' OR "status_reason" IS NOT NULL);
ALTER TABLE "discrepancy" ADD CONSTRAINT "discrepancy_school_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id");
ALTER TABLE "event_consumer" ADD CONSTRAINT "event_consumer_school_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id");
ALTER TABLE "identity_conflict" ADD CONSTRAINT "identity_conflict_school_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id");
ALTER TABLE "lesson_claim" ADD CONSTRAINT "lesson_claim_school_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id");
CREATE INDEX "discrepancy_school_id_day_idx" ON "discrepancy"("school_id", "rule", "day");
-- The silent-correction rule reads a school's mark changes and deletions from the history: few rows of many.
CREATE INDEX "journal_event_mark_changes_idx" ON "journal_event"("school_id", "seq") WHERE "entity_type" = 'mark' AND "op" IN ('update', 'delete');
