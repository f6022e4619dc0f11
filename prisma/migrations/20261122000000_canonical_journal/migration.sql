-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "school" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "short_name" TEXT,
    "region" TEXT NOT NULL,
    "time_zone" TEXT NOT NULL,
    "regulation_profile" TEXT NOT NULL DEFAULT 'default',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "school_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "academic_year" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "school_id" UUID NOT NULL,
    "start_year" INTEGER NOT NULL,
    "title" TEXT NOT NULL,
    "start_date" DATE NOT NULL,
    "end_date" DATE NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "academic_year_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "period" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "school_id" UUID NOT NULL,
    "academic_year_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "title" TEXT NOT NULL,
    "start_date" DATE NOT NULL,
    "end_date" DATE NOT NULL,
    "closed" BOOLEAN NOT NULL DEFAULT false,
    "deleted_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "period_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "class_group" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "school_id" UUID NOT NULL,
    "academic_year_id" UUID NOT NULL,
    "parent_id" UUID,
    "kind" TEXT NOT NULL,
    "grade" INTEGER NOT NULL,
    "letter" TEXT,
    "name" TEXT NOT NULL,
    "name_key" TEXT NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "class_group_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "subject" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "school_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "short_name" TEXT,
    "name_key" TEXT NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "subject_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "person" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "school_id" UUID NOT NULL,
    "last_name" TEXT NOT NULL,
    "first_name" TEXT NOT NULL,
    "middle_name" TEXT,
    "name_key" TEXT NOT NULL,
    "birth_date" DATE,
    "sex" TEXT,
    "phone" TEXT,
    "email" TEXT,
    "telegram" TEXT,
    "deleted_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "person_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "enrollment" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "school_id" UUID NOT NULL,
    "person_id" UUID NOT NULL,
    "class_group_id" UUID NOT NULL,
    "start_date" DATE,
    "end_date" DATE,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "enrollment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "guardianship" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "school_id" UUID NOT NULL,
    "guardian_id" UUID NOT NULL,
    "pupil_id" UUID NOT NULL,
    "relation" TEXT,
    "deleted_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "guardianship_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "staff_role" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "school_id" UUID NOT NULL,
    "person_id" UUID NOT NULL,
    "role" TEXT NOT NULL,
    "class_group_id" UUID,
    "deleted_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "staff_role_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "teaching_assignment" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "school_id" UUID NOT NULL,
    "teacher_id" UUID NOT NULL,
    "class_group_id" UUID NOT NULL,
    "subject_id" UUID NOT NULL,
    "deleted_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "teaching_assignment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "lesson" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "school_id" UUID NOT NULL,
    "class_group_id" UUID NOT NULL,
    "subject_id" UUID NOT NULL,
    "date" DATE NOT NULL,
    "slot" INTEGER NOT NULL,
    "starts_at" TIMESTAMPTZ(6),
    "ends_at" TIMESTAMPTZ(6),
    "teacher_id" UUID,
    "substitute_id" UUID,
    "topic" TEXT,
    "homework" TEXT,
    "status" TEXT NOT NULL DEFAULT 'planned',
    "deleted_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "lesson_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mark" (
    "id" UUID NOT NULL,
    "school_id" UUID NOT NULL,
    "source_id" UUID NOT NULL,
    "external_id" TEXT NOT NULL,
    "payload_hash" BIGINT NOT NULL,
    "pupil_id" UUID NOT NULL,
    "lesson_id" UUID,
    "subject_id" UUID NOT NULL,
    "date" DATE NOT NULL,
    "raw" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "numeric" DECIMAL(5,2),
    "scale" SMALLINT,
    "weight" DECIMAL(5,2),
    "work_category" TEXT NOT NULL,
    "work_title" TEXT,
    "entered_at" TIMESTAMPTZ(6),
    "modified_at" TIMESTAMPTZ(6),
    "deleted_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "mark_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "attendance" (
    "id" UUID NOT NULL,
    "school_id" UUID NOT NULL,
    "source_id" UUID NOT NULL,
    "external_id" TEXT NOT NULL,
    "payload_hash" BIGINT NOT NULL,
    "pupil_id" UUID NOT NULL,
    "lesson_id" UUID NOT NULL,
    "date" DATE NOT NULL,
    "raw" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "late_minutes" INTEGER,
    "reason" TEXT,
    "deleted_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "attendance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "period_mark" (
    "id" UUID NOT NULL,
    "school_id" UUID NOT NULL,
    "source_id" UUID NOT NULL,
    "external_id" TEXT NOT NULL,
    "payload_hash" BIGINT NOT NULL,
    "pupil_id" UUID NOT NULL,
    "subject_id" UUID NOT NULL,
    "period_id" UUID NOT NULL,
    "raw" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "numeric" DECIMAL(5,2),
    "scale" SMALLINT,
    "average" DECIMAL(5,2),
    "set_at" TIMESTAMPTZ(6),
    "deleted_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "period_mark_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "external_ref" (
    "id" BIGSERIAL NOT NULL,
    "connection_id" UUID NOT NULL,
    "entity_type" TEXT NOT NULL,
    "external_id" TEXT NOT NULL,
    "canonical_id" UUID NOT NULL,
    "payload_hash" BIGINT NOT NULL,
    "first_seen_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "gone_at" TIMESTAMPTZ(6),

    CONSTRAINT "external_ref_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "journal_event" (
    "school_id" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "entity_type" TEXT NOT NULL,
    "entity_id" UUID NOT NULL,
    "op" TEXT NOT NULL,
    "source_id" UUID,
    "actor" TEXT,
    "at" TIMESTAMPTZ(6) NOT NULL,
    "before" JSON,
    "after" JSON,
    "hash" BYTEA NOT NULL,

    CONSTRAINT "journal_event_pkey" PRIMARY KEY ("school_id","seq")
);

-- CreateTable
CREATE TABLE "journal_head" (
    "school_id" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "hash" BYTEA NOT NULL,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "journal_head_pkey" PRIMARY KEY ("school_id")
);

-- CreateTable
CREATE TABLE "connection" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "school_id" UUID NOT NULL,
    "platform" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "config" JSONB NOT NULL DEFAULT '{}',
    "secrets" BYTEA,
    "schedule" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "connection_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sync_run" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "connection_id" UUID NOT NULL,
    "trigger" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "counts" JSONB NOT NULL DEFAULT '{}',
    "rejected" JSONB NOT NULL DEFAULT '[]',
    "requests" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "queued_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(6),
    "finished_at" TIMESTAMPTZ(6),

    CONSTRAINT "sync_run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sync_cursor" (
    "connection_id" UUID NOT NULL,
    "stream" TEXT NOT NULL,
    "cursor" JSONB NOT NULL,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sync_cursor_pkey" PRIMARY KEY ("connection_id","stream")
);

-- CreateIndex
CREATE UNIQUE INDEX "academic_year_school_id_start_year_key" ON "academic_year"("school_id", "start_year");

-- CreateIndex
CREATE UNIQUE INDEX "period_academic_year_id_kind_number_key" ON "period"("academic_year_id", "kind", "number");

-- CreateIndex
CREATE INDEX "class_group_school_id_idx" ON "class_group"("school_id");

-- CreateIndex
CREATE UNIQUE INDEX "class_group_academic_year_id_name_key_key" ON "class_group"("academic_year_id", "name_key");

-- CreateIndex
CREATE UNIQUE INDEX "subject_school_id_name_key_key" ON "subject"("school_id", "name_key");

-- CreateIndex
CREATE INDEX "person_school_id_name_key_idx" ON "person"("school_id", "name_key");

-- CreateIndex
CREATE INDEX "enrollment_class_group_id_idx" ON "enrollment"("class_group_id");

-- CreateIndex
CREATE UNIQUE INDEX "enrollment_person_id_class_group_id_key" ON "enrollment"("person_id", "class_group_id");

-- CreateIndex
CREATE INDEX "guardianship_pupil_id_idx" ON "guardianship"("pupil_id");

-- CreateIndex
CREATE UNIQUE INDEX "guardianship_guardian_id_pupil_id_key" ON "guardianship"("guardian_id", "pupil_id");

-- CreateIndex
CREATE INDEX "staff_role_person_id_role_class_group_id_idx" ON "staff_role"("person_id", "role", "class_group_id");

-- CreateIndex
CREATE UNIQUE INDEX "teaching_assignment_teacher_id_class_group_id_subject_id_key" ON "teaching_assignment"("teacher_id", "class_group_id", "subject_id");

-- CreateIndex
CREATE INDEX "lesson_school_id_date_idx" ON "lesson"("school_id", "date");

-- CreateIndex
CREATE UNIQUE INDEX "lesson_class_group_id_date_slot_key" ON "lesson"("class_group_id", "date", "slot");

-- CreateIndex
CREATE INDEX "mark_lesson_id_idx" ON "mark"("lesson_id");

-- CreateIndex
CREATE INDEX "attendance_lesson_id_idx" ON "attendance"("lesson_id");

-- CreateIndex
CREATE INDEX "period_mark_pupil_id_period_id_idx" ON "period_mark"("pupil_id", "period_id");

-- CreateIndex
CREATE INDEX "external_ref_entity_type_canonical_id_idx" ON "external_ref"("entity_type", "canonical_id");

-- CreateIndex
CREATE UNIQUE INDEX "external_ref_connection_id_entity_type_external_id_key" ON "external_ref"("connection_id", "entity_type", "external_id");

-- CreateIndex
CREATE INDEX "connection_school_id_idx" ON "connection"("school_id");

-- CreateIndex
CREATE INDEX "sync_run_connection_id_queued_at_idx" ON "sync_run"("connection_id", "queued_at");

-- AddForeignKey
ALTER TABLE "academic_year" ADD CONSTRAINT "academic_year_school_id_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "period" ADD CONSTRAINT "period_school_id_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "period" ADD CONSTRAINT "period_academic_year_id_fkey" FOREIGN KEY ("academic_year_id") REFERENCES "academic_year"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "class_group" ADD CONSTRAINT "class_group_school_id_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "class_group" ADD CONSTRAINT "class_group_academic_year_id_fkey" FOREIGN KEY ("academic_year_id") REFERENCES "academic_year"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "class_group" ADD CONSTRAINT "class_group_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "class_group"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subject" ADD CONSTRAINT "subject_school_id_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "person" ADD CONSTRAINT "person_school_id_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "enrollment" ADD CONSTRAINT "enrollment_person_id_fkey" FOREIGN KEY ("person_id") REFERENCES "person"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "enrollment" ADD CONSTRAINT "enrollment_class_group_id_fkey" FOREIGN KEY ("class_group_id") REFERENCES "class_group"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "guardianship" ADD CONSTRAINT "guardianship_guardian_id_fkey" FOREIGN KEY ("guardian_id") REFERENCES "person"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "guardianship" ADD CONSTRAINT "guardianship_pupil_id_fkey" FOREIGN KEY ("pupil_id") REFERENCES "person"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "staff_role" ADD CONSTRAINT "staff_role_person_id_fkey" FOREIGN KEY ("person_id") REFERENCES "person"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "staff_role" ADD CONSTRAINT "staff_role_class_group_id_fkey" FOREIGN KEY ("class_group_id") REFERENCES "class_group"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "teaching_assignment" ADD CONSTRAINT "teaching_assignment_teacher_id_fkey" FOREIGN KEY ("teacher_id") REFERENCES "person"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "teaching_assignment" ADD CONSTRAINT "teaching_assignment_class_group_id_fkey" FOREIGN KEY ("class_group_id") REFERENCES "class_group"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "teaching_assignment" ADD CONSTRAINT "teaching_assignment_subject_id_fkey" FOREIGN KEY ("subject_id") REFERENCES "subject"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "lesson" ADD CONSTRAINT "lesson_school_id_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "lesson" ADD CONSTRAINT "lesson_class_group_id_fkey" FOREIGN KEY ("class_group_id") REFERENCES "class_group"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "lesson" ADD CONSTRAINT "lesson_subject_id_fkey" FOREIGN KEY ("subject_id") REFERENCES "subject"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "lesson" ADD CONSTRAINT "lesson_teacher_id_fkey" FOREIGN KEY ("teacher_id") REFERENCES "person"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "lesson" ADD CONSTRAINT "lesson_substitute_id_fkey" FOREIGN KEY ("substitute_id") REFERENCES "person"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "external_ref" ADD CONSTRAINT "external_ref_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connection"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "journal_head" ADD CONSTRAINT "journal_head_school_id_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "connection" ADD CONSTRAINT "connection_school_id_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sync_run" ADD CONSTRAINT "sync_run_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connection"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sync_cursor" ADD CONSTRAINT "sync_cursor_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connection"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- ---------------------------------------------------------------------------------------------------
-- Written by hand: what Prisma's schema language cannot express.
-- ---------------------------------------------------------------------------------------------------

-- Kinds are closed vocabularies.
ALTER TABLE "period" ADD CONSTRAINT "period_kind_check" CHECK ("kind" IN ('quarter', 'half_year', 'trimester', 'year'));
ALTER TABLE "period" ADD CONSTRAINT "period_dates_check" CHECK ("start_date" <= "end_date");
ALTER TABLE "academic_year" ADD CONSTRAINT "academic_year_dates_check" CHECK ("start_date" <= "end_date");
ALTER TABLE "class_group" ADD CONSTRAINT "class_group_kind_check" CHECK ("kind" IN ('class', 'subgroup'));
ALTER TABLE "class_group" ADD CONSTRAINT "class_group_grade_check" CHECK ("grade" BETWEEN 0 AND 12);
ALTER TABLE "person" ADD CONSTRAINT "person_sex_check" CHECK ("sex" IS NULL OR "sex" IN ('m', 'f'));
ALTER TABLE "enrollment" ADD CONSTRAINT "enrollment_dates_check" CHECK ("end_date" IS NULL OR "start_date" IS NULL OR "start_date" <= "end_date");
ALTER TABLE "staff_role" ADD CONSTRAINT "staff_role_role_check" CHECK ("role" IN ('teacher', 'class_teacher', 'deputy', 'director', 'other'));
ALTER TABLE "lesson" ADD CONSTRAINT "lesson_status_check" CHECK ("status" IN ('planned', 'held', 'cancelled'));
ALTER TABLE "lesson" ADD CONSTRAINT "lesson_slot_check" CHECK ("slot" BETWEEN 0 AND 20);
ALTER TABLE "mark" ADD CONSTRAINT "mark_kind_check" CHECK ("kind" IN ('mark', 'pass', 'fail', 'debt', 'absence', 'late', 'exempt', 'not_assessed', 'other'));
ALTER TABLE "mark" ADD CONSTRAINT "mark_work_category_check" CHECK ("work_category" IN ('oral', 'written', 'control', 'essay', 'lab', 'practical', 'homework', 'test', 'other'));
ALTER TABLE "mark" ADD CONSTRAINT "mark_numeric_check" CHECK ("numeric" IS NULL OR ("scale" IS NOT NULL AND "numeric" >= 0 AND "numeric" <= "scale"));
ALTER TABLE "mark" ADD CONSTRAINT "mark_weight_check" CHECK ("weight" IS NULL OR "weight" >= 0);
ALTER TABLE "attendance" ADD CONSTRAINT "attendance_kind_check" CHECK ("kind" IN ('ill', 'valid', 'unexcused', 'late', 'unknown'));
ALTER TABLE "attendance" ADD CONSTRAINT "attendance_late_minutes_check" CHECK ("late_minutes" IS NULL OR "late_minutes" >= 0);
ALTER TABLE "period_mark" ADD CONSTRAINT "period_mark_kind_check" CHECK ("kind" IN ('mark', 'pass', 'fail', 'debt', 'absence', 'late', 'exempt', 'not_assessed', 'other'));
ALTER TABLE "period_mark" ADD CONSTRAINT "period_mark_numeric_check" CHECK ("numeric" IS NULL OR ("scale" IS NOT NULL AND "numeric" >= 0 AND "numeric" <= "scale"));
ALTER TABLE "external_ref" ADD CONSTRAINT "external_ref_entity_type_check" CHECK ("entity_type" IN ('period', 'class', 'subject', 'person', 'enrollment', 'guardianship', 'staff_role', 'teaching_assignment', 'lesson', 'homework'));
ALTER TABLE "journal_event" ADD CONSTRAINT "journal_event_op_check" CHECK ("op" IN ('create', 'update', 'delete'));
ALTER TABLE "journal_event" ADD CONSTRAINT "journal_event_hash_check" CHECK (octet_length("hash") = 32);
ALTER TABLE "journal_head" ADD CONSTRAINT "journal_head_hash_check" CHECK (octet_length("hash") = 32);
ALTER TABLE "sync_run" ADD CONSTRAINT "sync_run_trigger_check" CHECK ("trigger" IN ('schedule', 'manual', 'retry', 'demo'));
ALTER TABLE "sync_run" ADD CONSTRAINT "sync_run_status_check" CHECK ("status" IN ('queued', 'running', 'succeeded', 'partial', 'failed'));

-- A person holds a role once per class, and once school-wide when class_group_id is null.
CREATE UNIQUE INDEX "staff_role_person_id_role_class_group_id_key" ON "staff_role"("person_id", "role", "class_group_id") NULLS NOT DISTINCT;

-- Marks without a lesson are found by pupil, subject and date (marks with one, through the lesson).
CREATE INDEX "mark_pupil_id_subject_id_date_idx" ON "mark"("pupil_id", "subject_id", "date") WHERE "lesson_id" IS NULL;

-- Set-based foreign keys for the high-volume tables (mark, attendance, period_mark, journal_event).
-- Row-level FK triggers run one lookup per row and key: measured here at 6-8 µs each, so three keys
-- cost more than the insert itself. These statement-level triggers check each distinct referenced id
-- of a statement once. Arguments: pairs of (column, referenced table); the referenced key is "id".
CREATE FUNCTION "journal_check_references"() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  missing text;
BEGIN
  FOR i IN 0 .. TG_NARGS / 2 - 1 LOOP
    EXECUTE format(
      'SELECT n.v::text FROM (SELECT DISTINCT %1$I AS v FROM changed_rows WHERE %1$I IS NOT NULL) n '
      'WHERE NOT EXISTS (SELECT 1 FROM %2$I r WHERE r.id = n.v) LIMIT 1',
      TG_ARGV[2 * i], TG_ARGV[2 * i + 1]) INTO missing;
    IF missing IS NOT NULL THEN
      RAISE foreign_key_violation USING MESSAGE = format(
        'insert or update on table "%s" violates a reference: %s = %s is not present in table "%s"',
        TG_TABLE_NAME, TG_ARGV[2 * i], missing, TG_ARGV[2 * i + 1]);
    END IF;
  END LOOP;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER "mark_references_on_insert" AFTER INSERT ON "mark" REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "journal_check_references"('school_id', 'school', 'source_id', 'connection', 'pupil_id', 'person', 'lesson_id', 'lesson', 'subject_id', 'subject');
CREATE TRIGGER "mark_references_on_update" AFTER UPDATE ON "mark" REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "journal_check_references"('school_id', 'school', 'source_id', 'connection', 'pupil_id', 'person', 'lesson_id', 'lesson', 'subject_id', 'subject');
CREATE TRIGGER "attendance_references_on_insert" AFTER INSERT ON "attendance" REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "journal_check_references"('school_id', 'school', 'source_id', 'connection', 'pupil_id', 'person', 'lesson_id', 'lesson');
CREATE TRIGGER "attendance_references_on_update" AFTER UPDATE ON "attendance" REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "journal_check_references"('school_id', 'school', 'source_id', 'connection', 'pupil_id', 'person', 'lesson_id', 'lesson');
CREATE TRIGGER "period_mark_references_on_insert" AFTER INSERT ON "period_mark" REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "journal_check_references"('school_id', 'school', 'source_id', 'connection', 'pupil_id', 'person', 'subject_id', 'subject', 'period_id', 'period');
CREATE TRIGGER "period_mark_references_on_update" AFTER UPDATE ON "period_mark" REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "journal_check_references"('school_id', 'school', 'source_id', 'connection', 'pupil_id', 'person', 'subject_id', 'subject', 'period_id', 'period');
CREATE TRIGGER "journal_event_references_on_insert" AFTER INSERT ON "journal_event" REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "journal_check_references"('school_id', 'school', 'source_id', 'connection');

-- The other side of those references: rows they point at are soft-deleted (deleted_at), never removed,
-- and keep their id. A connection may be removed only while no mark, absence or period mark cites it.
CREATE FUNCTION "journal_refuse_removal"() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE restrict_violation USING MESSAGE = format(
      'rows of "%s" are never deleted: set deleted_at instead', TG_TABLE_NAME);
  END IF;
  IF NEW.id IS DISTINCT FROM OLD.id THEN
    RAISE restrict_violation USING MESSAGE = format('the id of a "%s" row never changes', TG_TABLE_NAME);
  END IF;
  RETURN NEW;
END
$fn$;

CREATE TRIGGER "school_keep" BEFORE DELETE OR UPDATE OF "id" ON "school" FOR EACH ROW EXECUTE FUNCTION "journal_refuse_removal"();
CREATE TRIGGER "person_keep" BEFORE DELETE OR UPDATE OF "id" ON "person" FOR EACH ROW EXECUTE FUNCTION "journal_refuse_removal"();
CREATE TRIGGER "lesson_keep" BEFORE DELETE OR UPDATE OF "id" ON "lesson" FOR EACH ROW EXECUTE FUNCTION "journal_refuse_removal"();
CREATE TRIGGER "subject_keep" BEFORE DELETE OR UPDATE OF "id" ON "subject" FOR EACH ROW EXECUTE FUNCTION "journal_refuse_removal"();
CREATE TRIGGER "period_keep" BEFORE DELETE OR UPDATE OF "id" ON "period" FOR EACH ROW EXECUTE FUNCTION "journal_refuse_removal"();

CREATE FUNCTION "journal_guard_connection_removal"() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF EXISTS (SELECT 1 FROM "mark" WHERE "source_id" = OLD.id)
     OR EXISTS (SELECT 1 FROM "attendance" WHERE "source_id" = OLD.id)
     OR EXISTS (SELECT 1 FROM "period_mark" WHERE "source_id" = OLD.id) THEN
    RAISE restrict_violation USING MESSAGE = 'this connection is the source of journal records: disable it instead of deleting it';
  END IF;
  RETURN OLD;
END
$fn$;

CREATE TRIGGER "connection_keep_sources" BEFORE DELETE ON "connection" FOR EACH ROW EXECUTE FUNCTION "journal_guard_connection_removal"();
CREATE TRIGGER "connection_keep_id" BEFORE UPDATE OF "id" ON "connection" FOR EACH ROW EXECUTE FUNCTION "journal_refuse_removal"();

-- The history is append-only.
CREATE FUNCTION "journal_event_append_only"() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE restrict_violation USING MESSAGE = 'journal_event is append-only';
END
$fn$;
CREATE TRIGGER "journal_event_append_only" BEFORE UPDATE OR DELETE ON "journal_event" FOR EACH STATEMENT EXECUTE FUNCTION "journal_event_append_only"();
