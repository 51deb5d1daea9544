-- +goose Up
-- The center's figures (issue 19) read, for a period, the history lines that register a case
-- and those that leave a measured stage forward (store/stats.go: applications, stages, the wait
-- for a voucher). Without an index on the time each of them read the whole history (8 million
-- lines for a million cases) to keep a year's. The index holds only those lines: an event that
-- writes none of them (most do not) writes nothing more.
CREATE INDEX case_history_stats ON case_history (at)
    WHERE from_state = ''
       OR (from_state = 'collecting_documents' AND to_state = 'under_review')
       OR (from_state = 'under_review' AND to_state IN ('waiting_list', 'rejected'))
       OR (from_state = 'waiting_list' AND to_state = 'voucher_issued')
       OR (from_state = 'voucher_issued' AND to_state = 'residing');

-- +goose Down
DROP INDEX case_history_stats;
