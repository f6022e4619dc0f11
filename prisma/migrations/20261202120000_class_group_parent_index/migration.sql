-- The class journal page and the subgroup matching read a class's subgroups by parent, within one
-- school: without this index each read scanned every school's classes.
CREATE INDEX "class_group_school_id_parent_id_idx" ON "class_group" ("school_id", "parent_id");
