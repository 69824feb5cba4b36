-- A SIREN names one legal entity: two organizations may not share it.
-- An empty SIREN is not one (the territory rules require a SIREN; only
-- the storage layer's own tests leave it out) and may repeat.
--
-- Two organizations already sharing a SIREN make this migration fail
-- ("apply 00020_org_siren_unique.sql", organizations.siren): nothing is
-- applied and the database is left as it was. Give each its own SIREN
-- with the previous release (tno org update --slug SLUG --siren SIREN),
-- or merge them, then upgrade again.
CREATE UNIQUE INDEX organizations_siren ON organizations (siren) WHERE siren <> '';
