-- CreateTable
CREATE TABLE "webhook_endpoint" (
    "school_id" UUID NOT NULL,
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "url" TEXT NOT NULL,
    "description" TEXT,
    "event_types" TEXT[],
    "status" TEXT NOT NULL DEFAULT 'enabled',
    "disabled_reason" TEXT,
    "disabled_at" TIMESTAMPTZ(6),
    "secrets" BYTEA NOT NULL,
    "failing_since" TIMESTAMPTZ(6),
    "after_seq" BIGINT NOT NULL DEFAULT 0,
    "deleted_at" TIMESTAMPTZ(6),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_endpoint_pkey" PRIMARY KEY ("school_id","id")
);

-- CreateTable
CREATE TABLE "webhook_message" (
    "school_id" UUID NOT NULL,
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "endpoint_id" UUID NOT NULL,
    "event_key" TEXT NOT NULL,
    "event_type" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(6),
    "lease_until" TIMESTAMPTZ(6),
    "trigger" TEXT NOT NULL DEFAULT 'event',
    "last_status_code" INTEGER,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_message_pkey" PRIMARY KEY ("school_id","id")
);

-- CreateTable
CREATE TABLE "webhook_attempt" (
    "school_id" UUID NOT NULL,
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "message_id" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "trigger" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(6) NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "status_code" INTEGER,
    "response_body" TEXT,
    "error" TEXT,
    "succeeded" BOOLEAN NOT NULL,

    CONSTRAINT "webhook_attempt_pkey" PRIMARY KEY ("school_id","id")
);

-- CreateTable
CREATE TABLE "webhook_allowed_target" (
    "school_id" UUID NOT NULL,
    "entry" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_allowed_target_pkey" PRIMARY KEY ("school_id","entry")
);

-- CreateIndex
CREATE INDEX "webhook_endpoint_school_id_status_idx" ON "webhook_endpoint"("school_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "webhook_message_school_id_endpoint_id_event_key_key" ON "webhook_message"("school_id", "endpoint_id", "event_key");

-- CreateIndex
CREATE INDEX "webhook_message_school_id_endpoint_id_created_at_idx" ON "webhook_message"("school_id", "endpoint_id", "created_at");

-- CreateIndex
CREATE INDEX "webhook_message_status_next_attempt_at_idx" ON "webhook_message"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "webhook_attempt_school_id_message_id_attempt_idx" ON "webhook_attempt"("school_id", "message_id", "attempt");

-- AddForeignKey
ALTER TABLE "webhook_endpoint" ADD CONSTRAINT "webhook_endpoint_school_id_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_message" ADD CONSTRAINT "webhook_message_school_id_endpoint_id_fkey" FOREIGN KEY ("school_id", "endpoint_id") REFERENCES "webhook_endpoint"("school_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_attempt" ADD CONSTRAINT "webhook_attempt_school_id_message_id_fkey" FOREIGN KEY ("school_id", "message_id") REFERENCES "webhook_message"("school_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_allowed_target" ADD CONSTRAINT "webhook_allowed_target_school_id_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
