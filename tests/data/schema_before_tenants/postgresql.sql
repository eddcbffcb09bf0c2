-- The schema resolveflow created before tenants (0.x, December 2026): upgrade tests start from it.
CREATE TABLE resolveflow_cases (
    case_id VARCHAR(200) NOT NULL,
    methodology_id VARCHAR(100) NOT NULL,
    methodology_version VARCHAR(100) NOT NULL,
    step VARCHAR(100) NOT NULL,
    outcome VARCHAR(100),
    last_seq INTEGER NOT NULL,
    head VARCHAR(64) NOT NULL,
    hash_recipe VARCHAR(20) DEFAULT 'json-sorted' NOT NULL,
    definitions TEXT,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (case_id),
    CONSTRAINT ck_resolveflow_cases_last_seq CHECK (last_seq >= 0)
);

CREATE INDEX ix_resolveflow_cases_methodology ON resolveflow_cases (methodology_id, step);

CREATE INDEX ix_resolveflow_cases_outcome ON resolveflow_cases (outcome, case_id);

CREATE INDEX ix_resolveflow_cases_step ON resolveflow_cases (step, case_id);

CREATE TABLE resolveflow_deliveries (
    subscriber VARCHAR(100) NOT NULL,
    position BIGINT NOT NULL,
    delivery_id VARCHAR(64) NOT NULL,
    case_id VARCHAR(200) NOT NULL,
    event_id VARCHAR(36) NOT NULL,
    state VARCHAR(10) NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP WITH TIME ZONE NOT NULL,
    claim VARCHAR(36),
    claimed_until TIMESTAMP WITH TIME ZONE,
    last_error TEXT,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (subscriber, position),
    CONSTRAINT uq_resolveflow_deliveries_delivery_id UNIQUE (delivery_id)
);

CREATE INDEX ix_resolveflow_deliveries_case ON resolveflow_deliveries (subscriber, case_id, position);

CREATE INDEX ix_resolveflow_deliveries_due ON resolveflow_deliveries (subscriber, state, next_attempt_at);

CREATE TABLE resolveflow_relay_cursors (
    subscriber VARCHAR(100) NOT NULL,
    after_xact BIGINT NOT NULL,
    after_position BIGINT NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (subscriber)
);

CREATE TABLE resolveflow_deadline_marks (
    case_id VARCHAR(200) NOT NULL,
    kind VARCHAR(20) NOT NULL,
    ref VARCHAR(200) NOT NULL,
    due TIMESTAMP WITH TIME ZONE NOT NULL,
    mark VARCHAR(20) NOT NULL,
    event_id VARCHAR(36) NOT NULL,
    missed_at TIMESTAMP WITH TIME ZONE,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (case_id, kind, ref, due, mark),
    CONSTRAINT fk_resolveflow_deadline_marks_case FOREIGN KEY(case_id) REFERENCES resolveflow_cases (case_id)
);

CREATE INDEX ix_resolveflow_deadline_marks_missed ON resolveflow_deadline_marks (missed_at);

CREATE TABLE resolveflow_deadlines (
    case_id VARCHAR(200) NOT NULL,
    kind VARCHAR(20) NOT NULL,
    ref VARCHAR(200) NOT NULL,
    methodology_id VARCHAR(100) NOT NULL,
    description TEXT NOT NULL,
    due TIMESTAMP WITH TIME ZONE NOT NULL,
    due_fired BOOLEAN DEFAULT false NOT NULL,
    PRIMARY KEY (case_id, kind, ref),
    CONSTRAINT fk_resolveflow_deadlines_case FOREIGN KEY(case_id) REFERENCES resolveflow_cases (case_id)
);

CREATE INDEX ix_resolveflow_deadlines_due ON resolveflow_deadlines (due, case_id, kind, ref);

CREATE INDEX ix_resolveflow_deadlines_unfired ON resolveflow_deadlines (due, case_id, kind, ref) WHERE due_fired = false;

CREATE TABLE resolveflow_entries (
    case_id VARCHAR(200) NOT NULL,
    seq INTEGER NOT NULL,
    action VARCHAR(100) NOT NULL,
    from_step VARCHAR(100) NOT NULL,
    step VARCHAR(100) NOT NULL,
    actor VARCHAR(200) NOT NULL,
    actor_roles TEXT,
    at TIMESTAMP WITH TIME ZONE NOT NULL,
    evidence JSON,
    hash VARCHAR(64) NOT NULL,
    seal VARCHAR(105),
    PRIMARY KEY (case_id, seq),
    CONSTRAINT ck_resolveflow_entries_seq CHECK (seq >= 1),
    CONSTRAINT fk_resolveflow_entries_case FOREIGN KEY(case_id) REFERENCES resolveflow_cases (case_id)
);

CREATE TABLE resolveflow_outbox (
    position BIGSERIAL NOT NULL,
    event_id VARCHAR(36) NOT NULL,
    case_id VARCHAR(200) NOT NULL,
    seq INTEGER NOT NULL,
    event_type VARCHAR(100) NOT NULL,
    envelope JSON NOT NULL,
    xact_id BIGINT NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (position),
    CONSTRAINT uq_resolveflow_outbox_event_id UNIQUE (event_id),
    CONSTRAINT fk_resolveflow_outbox_case FOREIGN KEY(case_id) REFERENCES resolveflow_cases (case_id)
);

CREATE INDEX ix_resolveflow_outbox_case ON resolveflow_outbox (case_id, xact_id);

CREATE INDEX ix_resolveflow_outbox_order ON resolveflow_outbox (xact_id, position);

CREATE TABLE resolveflow_refusals (
    id BIGSERIAL NOT NULL,
    case_id VARCHAR(200) NOT NULL,
    action VARCHAR(100) NOT NULL,
    step VARCHAR(100) NOT NULL,
    codes JSON NOT NULL,
    actor VARCHAR(200) NOT NULL,
    at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_resolveflow_refusals_case FOREIGN KEY(case_id) REFERENCES resolveflow_cases (case_id)
);

CREATE INDEX ix_resolveflow_refusals_case ON resolveflow_refusals (case_id, at);

CREATE TABLE resolveflow_idempotency (
    case_id VARCHAR(200) NOT NULL,
    idempotency_key VARCHAR(200) NOT NULL,
    fingerprint VARCHAR(64) NOT NULL,
    seq INTEGER NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (case_id, idempotency_key),
    CONSTRAINT fk_resolveflow_idempotency_entry FOREIGN KEY(case_id, seq) REFERENCES resolveflow_entries (case_id, seq)
);
