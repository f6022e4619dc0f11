-- The period close (001 Инструкция §4, seeds 000 §3.10–3.13, 003 Регламент §4.2): who did each step, the
-- lock, the seal that commits to the journal as it stood, and the archive of what was printed and filed.

-- One close per school and period. Its status moves open → locked → sealed → closed; a reopened period
-- is a new close only after the old one is marked reopened (kept: it is part of the record).
CREATE TABLE "period_close" (
    "school_id" UUID NOT NULL,
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "period_id" UUID NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'open',
    "started_by" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(6) NOT NULL,
    -- The open severe findings of the period when it was locked, and the override that let it lock anyway.
    "open_severe" INTEGER,
    "override_reason" TEXT,
    "locked_by" TEXT,
    "locked_at" TIMESTAMPTZ(6),
    -- The school's history position at the lock: a change after it to a fact of the period is a post-close change.
    "lock_seq" BIGINT,
    "seal_id" UUID,
    "closed_by" TEXT,
    "closed_at" TIMESTAMPTZ(6),

    CONSTRAINT "period_close_pkey" PRIMARY KEY ("school_id","id"),
    CONSTRAINT "period_close_status_check" CHECK ("status" IN ('open', 'locked', 'sealed', 'closed'))
);
CREATE UNIQUE INDEX "period_close_school_id_period_id_key" ON "period_close"("school_id", "period_id");
ALTER TABLE "period_close" ADD CONSTRAINT "period_close_school_id_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "period_close" ADD CONSTRAINT "period_close_period_id_fkey" FOREIGN KEY ("period_id") REFERENCES "period"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Each step of a close and who did it: the deputy's (start, lock, seal, print, backup), each teacher's
-- confirmation of a subject's page, each class teacher's of a class, the director's sign-off.
-- class_group_id / subject_id are the nil uuid where the step is not about one.
CREATE TABLE "period_close_step" (
    "school_id" UUID NOT NULL,
    "close_id" UUID NOT NULL,
    "step" TEXT NOT NULL,
    "class_group_id" UUID NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
    "subject_id" UUID NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000',
    "actor" TEXT NOT NULL,
    "at" TIMESTAMPTZ(6) NOT NULL,
    "detail" JSONB,

    CONSTRAINT "period_close_step_pkey" PRIMARY KEY ("school_id","close_id","step","class_group_id","subject_id")
);
ALTER TABLE "period_close_step" ADD CONSTRAINT "period_close_step_school_id_close_id_fkey" FOREIGN KEY ("school_id", "close_id") REFERENCES "period_close"("school_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- A seal: the school's history chain position and hash when it was made, and the root digest over its
-- pages. Append-only (db/roles.ts HISTORY_TABLES).
CREATE TABLE "seal" (
    "school_id" UUID NOT NULL,
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "close_id" UUID NOT NULL,
    "period_id" UUID NOT NULL,
    "code" TEXT NOT NULL,
    "chain_seq" BIGINT NOT NULL,
    "chain_hash" BYTEA NOT NULL,
    "digest" TEXT NOT NULL,
    "pages" INTEGER NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "seal_pkey" PRIMARY KEY ("school_id","id")
);
CREATE UNIQUE INDEX "seal_school_id_code_key" ON "seal"("school_id", "code");
CREATE INDEX "seal_code_idx" ON "seal"("code");
ALTER TABLE "seal" ADD CONSTRAINT "seal_school_id_close_id_fkey" FOREIGN KEY ("school_id", "close_id") REFERENCES "period_close"("school_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- One sealed page: a class × subject page of the period (subject_id nil: the class's title page), its
-- printed content and that content's digest. The code is what the printout carries.
CREATE TABLE "seal_page" (
    "school_id" UUID NOT NULL,
    "seal_id" UUID NOT NULL,
    "class_group_id" UUID NOT NULL,
    "subject_id" UUID NOT NULL,
    -- The page's place in the seal (the root digest is over the pages in this order).
    "position" INTEGER NOT NULL,
    "code" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "content" JSONB NOT NULL,

    CONSTRAINT "seal_page_pkey" PRIMARY KEY ("school_id","seal_id","class_group_id","subject_id")
);
CREATE UNIQUE INDEX "seal_page_school_id_code_key" ON "seal_page"("school_id", "code");
CREATE INDEX "seal_page_code_idx" ON "seal_page"("code");
ALTER TABLE "seal_page" ADD CONSTRAINT "seal_page_school_id_seal_id_fkey" FOREIGN KEY ("school_id", "seal_id") REFERENCES "seal"("school_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The archive: every printout, summary sheet, report and manifest filed, with its digest. Append-only.
CREATE TABLE "archive_item" (
    "school_id" UUID NOT NULL,
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "kind" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "filename" TEXT NOT NULL,
    "media_type" TEXT NOT NULL,
    "period_id" UUID,
    "class_group_id" UUID,
    "seal_id" UUID,
    "sha256" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "content" BYTEA NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "archive_item_pkey" PRIMARY KEY ("school_id","id")
);
CREATE INDEX "archive_item_school_id_kind_created_at_idx" ON "archive_item"("school_id", "kind", "created_at");
ALTER TABLE "archive_item" ADD CONSTRAINT "archive_item_school_id_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Changes to a locked period's facts after its lock, projected from the history by the checks consumer
-- (src/archive/post-close.ts); the post_close_change rule reports each to the deputy.
CREATE TABLE "post_close_change" (
    "school_id" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "close_id" UUID NOT NULL,
    "period_id" UUID NOT NULL,
    "entity_type" TEXT NOT NULL,
    "entity_id" UUID NOT NULL,
    "op" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "class_group_id" UUID,
    "subject_id" UUID,
    "pupil_id" UUID,
    "lesson_id" UUID,
    "source_id" UUID,

    CONSTRAINT "post_close_change_pkey" PRIMARY KEY ("school_id","seq")
);
CREATE INDEX "post_close_change_school_id_day_idx" ON "post_close_change"("school_id", "day");

CREATE FUNCTION "archive_append_only"() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE restrict_violation USING MESSAGE = TG_TABLE_NAME || ' is append-only';
END
$fn$;
CREATE TRIGGER "seal_append_only" BEFORE UPDATE OR DELETE ON "seal" FOR EACH STATEMENT EXECUTE FUNCTION "archive_append_only"();
CREATE TRIGGER "seal_page_append_only" BEFORE UPDATE OR DELETE ON "seal_page" FOR EACH STATEMENT EXECUTE FUNCTION "archive_append_only"();
CREATE TRIGGER "archive_item_append_only" BEFORE UPDATE OR DELETE ON "archive_item" FOR EACH STATEMENT EXECUTE FUNCTION "archive_append_only"();

-- The scheduled reports filed (src/archive/scheduled-reports.ts): one row per school and report window, so each is filed once.
CREATE TABLE "report_filing" (
    "school_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "filed_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "report_filing_pkey" PRIMARY KEY ("school_id","key")
);
ALTER TABLE "report_filing" ADD CONSTRAINT "report_filing_school_id_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
