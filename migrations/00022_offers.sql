-- +goose Up
-- Offers (issue 17): when a bed frees, the first eligible waiting case for its section is
-- offered it; the offer is accepted (a voucher), declined with a reason from a managed list,
-- expires, or is withdrawn. An offer holds no bed: a section's free beds less its open offers
-- are what may still be offered.
CREATE TABLE decline_reasons (
    code              text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    title             text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    -- the applicant's own refusal: counts towards OFFER_REFUSALS_BEFORE_REVIEW
    applicant_refused boolean NOT NULL DEFAULT false,
    needs_text        boolean NOT NULL DEFAULT false,
    active            boolean NOT NULL DEFAULT true
);
INSERT INTO decline_reasons (code, title, applicant_refused, needs_text) VALUES
    ('applicant_refused', 'Заявитель отказался от учреждения', true, false),
    ('health_changed', 'Изменилось состояние здоровья', false, false),
    ('home_refused', 'Учреждение отказало в приёме', false, false),
    ('unreachable', 'Не удалось связаться с заявителем', false, false),
    ('other', 'Другое', false, true);

CREATE TABLE offers (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id      uuid NOT NULL REFERENCES cases (id),
    facility_id  uuid NOT NULL,
    section_code text NOT NULL,
    state        text NOT NULL CHECK (state IN ('proposed', 'accepted', 'declined', 'expired', 'withdrawn')),
    proposed_at  timestamptz NOT NULL,
    due_at       timestamptz NOT NULL,
    answered_at  timestamptz,
    reason       text REFERENCES decline_reasons (code),
    note         text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    FOREIGN KEY (facility_id, section_code) REFERENCES facility_sections (facility_id, code),
    CHECK ((state = 'proposed') = (answered_at IS NULL))
);
-- a case has at most one open offer
CREATE UNIQUE INDEX offers_one_open ON offers (case_id) WHERE state = 'proposed';
CREATE INDEX offers_section_open ON offers (facility_id, section_code) WHERE state = 'proposed';
CREATE INDEX offers_due ON offers (due_at) WHERE state = 'proposed';
CREATE INDEX offers_case ON offers (case_id, proposed_at);

-- +goose Down
DROP TABLE offers;
DROP TABLE decline_reasons;
