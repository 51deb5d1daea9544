-- +goose Up
-- A transfer (issue 17): request_transfer names the type of home wanted, preferences and a
-- reason; the resident joins the waiting list for it and keeps the current bed until admitted
-- elsewhere. The list therefore holds the cases in waiting_list and in transfer_pending, and its
-- index covers both. A resident's place on the list dates from the request: recognized_at is
-- set when a residing case enters transfer_pending (a cancelled transfer voucher, back to
-- transfer_pending from voucher_issued, keeps it).
DROP INDEX cases_waiting_order;
CREATE INDEX cases_waiting_order ON cases (facility_type, priority_rank, recognized_at, seq) INCLUDE (id)
    WHERE state IN ('waiting_list', 'transfer_pending');

-- +goose StatementBegin
CREATE FUNCTION cases_transfer_requested_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.recognized_at := NEW.state_entered_at;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER cases_transfer_requested_at BEFORE UPDATE ON cases
    FOR EACH ROW WHEN (NEW.state = 'transfer_pending' AND OLD.state = 'residing') EXECUTE FUNCTION cases_transfer_requested_at();

UPDATE cases SET recognized_at = state_entered_at WHERE state = 'transfer_pending';

-- +goose Down
DROP TRIGGER cases_transfer_requested_at ON cases;
DROP FUNCTION cases_transfer_requested_at();
DROP INDEX cases_waiting_order;
CREATE INDEX cases_waiting_order ON cases (facility_type, priority_rank, recognized_at, seq) INCLUDE (id) WHERE state = 'waiting_list';
