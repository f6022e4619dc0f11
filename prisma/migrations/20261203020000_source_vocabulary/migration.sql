-- CreateTable
CREATE TABLE "source_vocabulary" (
    "school_id" UUID NOT NULL,
    "source_id" UUID NOT NULL,
    "modifiers" BOOLEAN NOT NULL,
    "kinds" TEXT[] NOT NULL,
    "categories" TEXT[] NOT NULL,
    "unit" DECIMAL(5,2),
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "source_vocabulary_pkey" PRIMARY KEY ("school_id","source_id")
);

-- Hand-written (Prisma cannot express them).
ALTER TABLE "source_vocabulary" ADD CONSTRAINT "source_vocabulary_school_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id");
ALTER TABLE "source_vocabulary" ADD CONSTRAINT "source_vocabulary_source_fkey" FOREIGN KEY ("source_id") REFERENCES "connection"("id") ON DELETE CASCADE;

-- The checks read one school's marks and absences of a window of days (an incremental run: one day).
CREATE INDEX "mark_school_id_date_idx" ON "mark"("school_id", "date");
CREATE INDEX "attendance_school_id_date_idx" ON "attendance"("school_id", "date");
-- The silent-correction rule reads the mark changes and deletions of a window of lesson days.
CREATE INDEX "journal_event_mark_change_days_idx" ON "journal_event"("school_id", (("before"::jsonb ->> 'date'))) WHERE "entity_type" = 'mark' AND "op" IN ('update', 'delete');
