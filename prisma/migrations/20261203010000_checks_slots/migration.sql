-- CreateTable
CREATE TABLE "checks_slot" (
    "school_id" UUID NOT NULL,
    "slot" TIMESTAMPTZ(6) NOT NULL,
    "kind" TEXT NOT NULL,
    "job_id" UUID,
    "queued_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(6),
    "found" INTEGER,

    CONSTRAINT "checks_slot_pkey" PRIMARY KEY ("school_id","slot")
);

-- Hand-written (Prisma cannot express them).
ALTER TABLE "checks_slot" ADD CONSTRAINT "checks_slot_kind_check" CHECK ("kind" IN ('after_lessons', 'nightly'));
ALTER TABLE "checks_slot" ADD CONSTRAINT "checks_slot_school_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id");
