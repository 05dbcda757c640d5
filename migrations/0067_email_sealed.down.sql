ALTER TABLE emails DROP COLUMN body_sealed;
