-- A subject's names in the platform's other languages (Kundoluk: Kyrgyz beside Russian), as a JSON
-- object {"<language>": "<name>"} with sorted keys, written by the journal's canonical form.
ALTER TABLE "subject" ADD COLUMN "alt_names" TEXT;
