-- CreateTable
CREATE TABLE "push_idempotency" (
    "school_id" UUID NOT NULL,
    "connection_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "body_sha256" TEXT NOT NULL,
    "status" INTEGER NOT NULL,
    "response" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "push_idempotency_pkey" PRIMARY KEY ("school_id","connection_id","key")
);

-- CreateIndex
CREATE INDEX "push_idempotency_school_id_connection_id_created_at_idx" ON "push_idempotency"("school_id", "connection_id", "created_at");

-- Hand-written (Prisma cannot express them).
ALTER TABLE "push_idempotency" ADD CONSTRAINT "push_idempotency_school_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id");
ALTER TABLE "push_idempotency" ADD CONSTRAINT "push_idempotency_connection_fkey" FOREIGN KEY ("connection_id") REFERENCES "connection"("id") ON DELETE CASCADE;
