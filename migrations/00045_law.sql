-- +goose Up
-- The law's loose ends (domain/law.go): a case's appeals, the contract with the home and the
-- choice of the longer decision period, kept together; the contract deadline (442-ФЗ art. 17);
-- notices cancelled because their recipient withdrew the consent to notices.
ALTER TABLE cases ADD COLUMN law jsonb NOT NULL DEFAULT '{}';
ALTER TYPE deadline_kind ADD VALUE 'contract';
ALTER TYPE notice_status ADD VALUE 'cancelled';

-- +goose Down
-- Enum values cannot be dropped: contract and cancelled stay in their types, unused.
UPDATE notices SET status = 'dead' WHERE status::text = 'cancelled';
DELETE FROM deadlines WHERE kind::text = 'contract';
ALTER TABLE cases DROP COLUMN law;
