-- Дневник.ру's «модуль» terms (schools that teach in five or six modules a year) are periods of their own kind.
ALTER TABLE "period" DROP CONSTRAINT "period_kind_check";
ALTER TABLE "period" ADD CONSTRAINT "period_kind_check" CHECK ("kind" IN ('quarter', 'half_year', 'trimester', 'module', 'year'));
