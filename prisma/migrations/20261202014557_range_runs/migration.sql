-- AlterTable
ALTER TABLE "sync_run" ADD COLUMN     "range_from" DATE,
ADD COLUMN     "range_to" DATE;


-- A range run names its days; the others do not (hand-written: Prisma cannot express it).
ALTER TABLE "sync_run" DROP CONSTRAINT "sync_run_mode_check";
ALTER TABLE "sync_run" ADD CONSTRAINT "sync_run_mode_check" CHECK ("mode" IN ('incremental', 'full', 'range'));
ALTER TABLE "sync_run" ADD CONSTRAINT "sync_run_range_check"
  CHECK (("mode" = 'range') = ("range_from" IS NOT NULL AND "range_to" IS NOT NULL) AND ("range_from" IS NULL OR "range_from" <= "range_to"));
