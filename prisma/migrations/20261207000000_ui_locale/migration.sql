-- The language of the school's dashboard (src/http/dashboard): Russian, or Kyrgyz where the school chooses.
ALTER TABLE "school" ADD COLUMN "ui_locale" TEXT NOT NULL DEFAULT 'ru';
ALTER TABLE "school" ADD CONSTRAINT "school_ui_locale_check" CHECK ("ui_locale" IN ('ru', 'ky'));
