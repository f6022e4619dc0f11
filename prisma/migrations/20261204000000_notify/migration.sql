-- CreateTable
CREATE TABLE "notify_settings" (
    "school_id" UUID NOT NULL,
    "policy" JSONB NOT NULL DEFAULT '{}',
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "notify_settings_pkey" PRIMARY KEY ("school_id")
);

-- CreateTable
CREATE TABLE "notify_provider" (
    "school_id" UUID NOT NULL,
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "channel" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "config" JSONB NOT NULL DEFAULT '{}',
    "secrets" BYTEA,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "paused_until" TIMESTAMPTZ(6),
    "paused_reason" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "notify_provider_pkey" PRIMARY KEY ("school_id","id")
);

-- CreateTable
CREATE TABLE "contact_point" (
    "school_id" UUID NOT NULL,
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "person_id" UUID NOT NULL,
    "channel" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "origin" TEXT NOT NULL,
    "usable" BOOLEAN NOT NULL DEFAULT true,
    "unusable_reason" TEXT,
    "unusable_at" TIMESTAMPTZ(6),
    "soft_failures" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "contact_point_pkey" PRIMARY KEY ("school_id","id")
);

-- CreateTable
CREATE TABLE "consent" (
    "school_id" UUID NOT NULL,
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "person_id" UUID NOT NULL,
    "channel" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "granted_at" TIMESTAMPTZ(6) NOT NULL,
    "method" TEXT NOT NULL,
    "evidence" TEXT,
    "granted_by" TEXT NOT NULL,
    "withdrawn_at" TIMESTAMPTZ(6),
    "withdrawn_by" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "consent_pkey" PRIMARY KEY ("school_id","id")
);

-- CreateTable
CREATE TABLE "notify_preference" (
    "school_id" UUID NOT NULL,
    "person_id" UUID NOT NULL,
    "channels" TEXT[],
    "marks" TEXT,
    "language" TEXT,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "notify_preference_pkey" PRIMARY KEY ("school_id","person_id")
);

-- CreateTable
CREATE TABLE "telegram_link_token" (
    "school_id" UUID NOT NULL,
    "token_hash" BYTEA NOT NULL,
    "person_id" UUID NOT NULL,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "used_at" TIMESTAMPTZ(6),
    "used_chat" TEXT,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "telegram_link_token_pkey" PRIMARY KEY ("school_id","token_hash")
);

-- CreateTable
CREATE TABLE "notification" (
    "school_id" UUID NOT NULL,
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "event_key" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "recipient_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "pupil_id" UUID,
    "data" JSONB NOT NULL,
    "contact_id" UUID,
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "not_before" TIMESTAMPTZ(6),
    "digest_id" UUID,
    "fallback_of" UUID,
    "subject" TEXT,
    "body" TEXT,
    "parts" INTEGER,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "provider" TEXT,
    "provider_message_id" TEXT,
    "provider_status" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(6),
    "delivered_at" TIMESTAMPTZ(6),

    CONSTRAINT "notification_pkey" PRIMARY KEY ("school_id","id")
);

-- CreateTable
CREATE TABLE "notify_slot" (
    "school_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "slot" TEXT NOT NULL,
    "taken_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(6),
    "count" INTEGER,

    CONSTRAINT "notify_slot_pkey" PRIMARY KEY ("school_id","kind","slot")
);

-- CreateIndex
CREATE UNIQUE INDEX "notify_provider_school_id_channel_key" ON "notify_provider"("school_id", "channel");

-- CreateIndex
CREATE UNIQUE INDEX "contact_point_school_id_person_id_channel_address_key" ON "contact_point"("school_id", "person_id", "channel", "address");

-- CreateIndex
CREATE INDEX "consent_school_id_person_id_idx" ON "consent"("school_id", "person_id");

-- CreateIndex
CREATE INDEX "notification_school_id_recipient_id_created_at_idx" ON "notification"("school_id", "recipient_id", "created_at");

-- CreateIndex
CREATE INDEX "notification_school_id_status_idx" ON "notification"("school_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "notification_school_id_event_key_channel_recipient_id_key" ON "notification"("school_id", "event_key", "channel", "recipient_id");


-- Hand-written (Prisma cannot express them).
ALTER TABLE "notify_settings" ADD CONSTRAINT "notify_settings_school_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id");
ALTER TABLE "notify_provider" ADD CONSTRAINT "notify_provider_school_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id");
ALTER TABLE "notify_provider" ADD CONSTRAINT "notify_provider_channel_check" CHECK ("channel" IN ('email', 'telegram', 'sms'));
ALTER TABLE "contact_point" ADD CONSTRAINT "contact_point_person_fkey" FOREIGN KEY ("person_id") REFERENCES "person"("id");
ALTER TABLE "contact_point" ADD CONSTRAINT "contact_point_channel_check" CHECK ("channel" IN ('email', 'telegram', 'sms'));
ALTER TABLE "contact_point" ADD CONSTRAINT "contact_point_origin_check" CHECK ("origin" IN ('platform', 'school', 'telegram_link'));
ALTER TABLE "consent" ADD CONSTRAINT "consent_person_fkey" FOREIGN KEY ("person_id") REFERENCES "person"("id");
ALTER TABLE "consent" ADD CONSTRAINT "consent_channel_check" CHECK ("channel" IN ('email', 'telegram', 'sms'));
ALTER TABLE "consent" ADD CONSTRAINT "consent_purpose_check" CHECK ("purpose" IN ('marks', 'attendance', 'reports', 'announcements'));
ALTER TABLE "consent" ADD CONSTRAINT "consent_method_check" CHECK ("method" IN ('paper_form', 'telegram_link', 'web_form', 'api'));
CREATE UNIQUE INDEX "consent_active_key" ON "consent" ("school_id", "person_id", "channel", "purpose") WHERE "withdrawn_at" IS NULL;
ALTER TABLE "notify_preference" ADD CONSTRAINT "notify_preference_person_fkey" FOREIGN KEY ("person_id") REFERENCES "person"("id");
ALTER TABLE "notify_preference" ADD CONSTRAINT "notify_preference_marks_check" CHECK ("marks" IN ('instant', 'digest', 'off'));
ALTER TABLE "telegram_link_token" ADD CONSTRAINT "telegram_link_token_person_fkey" FOREIGN KEY ("person_id") REFERENCES "person"("id");
ALTER TABLE "notification" ADD CONSTRAINT "notification_school_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id");
ALTER TABLE "notification" ADD CONSTRAINT "notification_recipient_fkey" FOREIGN KEY ("recipient_id") REFERENCES "person"("id");
ALTER TABLE "notification" ADD CONSTRAINT "notification_channel_check" CHECK ("channel" IN ('email', 'telegram', 'sms', 'none'));
ALTER TABLE "notification" ADD CONSTRAINT "notification_status_check"
  CHECK ("status" IN ('held', 'queued', 'sending', 'sent', 'delivered', 'failed', 'skipped', 'cancelled', 'digested'));
ALTER TABLE "notify_slot" ADD CONSTRAINT "notify_slot_school_fkey" FOREIGN KEY ("school_id") REFERENCES "school"("id");

ALTER TABLE "notification" ADD COLUMN "lease_until" TIMESTAMPTZ(6);
-- The sweeper finds sends whose sender died.
CREATE INDEX "notification_sending_idx" ON "notification" ("lease_until") WHERE "status" = 'sending';

CREATE TABLE "send_rate_slot" (
    "key" TEXT NOT NULL,
    "next_at" TIMESTAMPTZ(6) NOT NULL,
    "hold_until" TIMESTAMPTZ(6),

    CONSTRAINT "send_rate_slot_pkey" PRIMARY KEY ("key")
);
