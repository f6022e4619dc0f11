-- AlterTable
ALTER TABLE "lesson" ADD COLUMN     "homework_due_date" DATE,
ADD COLUMN     "homework_files" TEXT;

-- AlterTable
ALTER TABLE "mark" ADD COLUMN     "comment" TEXT,
ADD COLUMN     "due_date" DATE;

