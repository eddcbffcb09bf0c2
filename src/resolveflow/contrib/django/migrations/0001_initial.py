"""resolveflow's tables, as ``resolveflow.store.schema_sql()`` gave them when this migration was written.

The SQL is kept here, per database, rather than computed at migrate time: a
migration is history, and must create the same tables whichever resolveflow
version runs it. A test checks that it is still exactly ``schema_sql()``;
when the store's schema changes, a new migration carries the change.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

SQL = {
    "postgresql": r"""
CREATE TABLE resolveflow_cases (
    tenant VARCHAR(200) DEFAULT '' NOT NULL,
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
    PRIMARY KEY (tenant, case_id),
    CONSTRAINT ck_resolveflow_cases_last_seq CHECK (last_seq >= 0)
);

CREATE INDEX ix_resolveflow_cases_methodology ON resolveflow_cases (tenant, methodology_id, step);

CREATE INDEX ix_resolveflow_cases_outcome ON resolveflow_cases (tenant, outcome, case_id);

CREATE INDEX ix_resolveflow_cases_step ON resolveflow_cases (tenant, step, case_id);

CREATE TABLE resolveflow_deliveries (
    subscriber VARCHAR(100) NOT NULL,
    position BIGINT NOT NULL,
    delivery_id VARCHAR(64) NOT NULL,
    tenant VARCHAR(200) DEFAULT '' NOT NULL,
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

CREATE INDEX ix_resolveflow_deliveries_case ON resolveflow_deliveries (subscriber, tenant, case_id, position);

CREATE INDEX ix_resolveflow_deliveries_due ON resolveflow_deliveries (subscriber, state, next_attempt_at);

CREATE TABLE resolveflow_relay_cursors (
    subscriber VARCHAR(100) NOT NULL,
    after_xact BIGINT NOT NULL,
    after_position BIGINT NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (subscriber)
);

CREATE TABLE resolveflow_deadline_marks (
    tenant VARCHAR(200) DEFAULT '' NOT NULL,
    case_id VARCHAR(200) NOT NULL,
    kind VARCHAR(20) NOT NULL,
    ref VARCHAR(200) NOT NULL,
    due TIMESTAMP WITH TIME ZONE NOT NULL,
    mark VARCHAR(20) NOT NULL,
    event_id VARCHAR(36) NOT NULL,
    missed_at TIMESTAMP WITH TIME ZONE,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (tenant, case_id, kind, ref, due, mark),
    CONSTRAINT fk_resolveflow_deadline_marks_case FOREIGN KEY(tenant, case_id) REFERENCES resolveflow_cases (tenant, case_id)
);

CREATE INDEX ix_resolveflow_deadline_marks_missed ON resolveflow_deadline_marks (missed_at);

CREATE TABLE resolveflow_deadlines (
    tenant VARCHAR(200) DEFAULT '' NOT NULL,
    case_id VARCHAR(200) NOT NULL,
    kind VARCHAR(20) NOT NULL,
    ref VARCHAR(200) NOT NULL,
    methodology_id VARCHAR(100) NOT NULL,
    description TEXT NOT NULL,
    due TIMESTAMP WITH TIME ZONE NOT NULL,
    due_fired BOOLEAN DEFAULT false NOT NULL,
    PRIMARY KEY (tenant, case_id, kind, ref),
    CONSTRAINT fk_resolveflow_deadlines_case FOREIGN KEY(tenant, case_id) REFERENCES resolveflow_cases (tenant, case_id)
);

CREATE INDEX ix_resolveflow_deadlines_due ON resolveflow_deadlines (tenant, due, case_id, kind, ref);

CREATE INDEX ix_resolveflow_deadlines_unfired ON resolveflow_deadlines (due, tenant, case_id, kind, ref) WHERE due_fired = false;

CREATE TABLE resolveflow_entries (
    tenant VARCHAR(200) DEFAULT '' NOT NULL,
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
    PRIMARY KEY (tenant, case_id, seq),
    CONSTRAINT ck_resolveflow_entries_seq CHECK (seq >= 1),
    CONSTRAINT fk_resolveflow_entries_case FOREIGN KEY(tenant, case_id) REFERENCES resolveflow_cases (tenant, case_id)
);

CREATE TABLE resolveflow_outbox (
    position BIGSERIAL NOT NULL,
    event_id VARCHAR(36) NOT NULL,
    tenant VARCHAR(200) DEFAULT '' NOT NULL,
    case_id VARCHAR(200) NOT NULL,
    seq INTEGER NOT NULL,
    event_type VARCHAR(100) NOT NULL,
    envelope JSON NOT NULL,
    xact_id BIGINT NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (position),
    CONSTRAINT uq_resolveflow_outbox_event_id UNIQUE (event_id),
    CONSTRAINT fk_resolveflow_outbox_case FOREIGN KEY(tenant, case_id) REFERENCES resolveflow_cases (tenant, case_id)
);

CREATE INDEX ix_resolveflow_outbox_case ON resolveflow_outbox (tenant, case_id, xact_id);

CREATE INDEX ix_resolveflow_outbox_order ON resolveflow_outbox (xact_id, position);

CREATE INDEX ix_resolveflow_outbox_tenant ON resolveflow_outbox (tenant, xact_id, position);

CREATE TABLE resolveflow_refusals (
    id BIGSERIAL NOT NULL,
    tenant VARCHAR(200) DEFAULT '' NOT NULL,
    case_id VARCHAR(200) NOT NULL,
    action VARCHAR(100) NOT NULL,
    step VARCHAR(100) NOT NULL,
    codes JSON NOT NULL,
    actor VARCHAR(200) NOT NULL,
    at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_resolveflow_refusals_case FOREIGN KEY(tenant, case_id) REFERENCES resolveflow_cases (tenant, case_id)
);

CREATE INDEX ix_resolveflow_refusals_case ON resolveflow_refusals (tenant, case_id, at);

CREATE TABLE resolveflow_idempotency (
    tenant VARCHAR(200) DEFAULT '' NOT NULL,
    case_id VARCHAR(200) NOT NULL,
    idempotency_key VARCHAR(200) NOT NULL,
    fingerprint VARCHAR(64) NOT NULL,
    seq INTEGER NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (tenant, case_id, idempotency_key),
    CONSTRAINT fk_resolveflow_idempotency_entry FOREIGN KEY(tenant, case_id, seq) REFERENCES resolveflow_entries (tenant, case_id, seq)
);
""",
    "sqlite": r"""
CREATE TABLE resolveflow_cases (
    tenant VARCHAR(200) DEFAULT '' NOT NULL,
    case_id VARCHAR(200) NOT NULL,
    methodology_id VARCHAR(100) NOT NULL,
    methodology_version VARCHAR(100) NOT NULL,
    step VARCHAR(100) NOT NULL,
    outcome VARCHAR(100),
    last_seq INTEGER NOT NULL,
    head VARCHAR(64) NOT NULL,
    hash_recipe VARCHAR(20) DEFAULT 'json-sorted' NOT NULL,
    definitions TEXT,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (tenant, case_id),
    CONSTRAINT ck_resolveflow_cases_last_seq CHECK (last_seq >= 0)
);

CREATE INDEX ix_resolveflow_cases_methodology ON resolveflow_cases (tenant, methodology_id, step);

CREATE INDEX ix_resolveflow_cases_outcome ON resolveflow_cases (tenant, outcome, case_id);

CREATE INDEX ix_resolveflow_cases_step ON resolveflow_cases (tenant, step, case_id);

CREATE TABLE resolveflow_deliveries (
    subscriber VARCHAR(100) NOT NULL,
    position INTEGER NOT NULL,
    delivery_id VARCHAR(64) NOT NULL,
    tenant VARCHAR(200) DEFAULT '' NOT NULL,
    case_id VARCHAR(200) NOT NULL,
    event_id VARCHAR(36) NOT NULL,
    state VARCHAR(10) NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at DATETIME NOT NULL,
    claim VARCHAR(36),
    claimed_until DATETIME,
    last_error TEXT,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (subscriber, position),
    CONSTRAINT uq_resolveflow_deliveries_delivery_id UNIQUE (delivery_id)
);

CREATE INDEX ix_resolveflow_deliveries_case ON resolveflow_deliveries (subscriber, tenant, case_id, position);

CREATE INDEX ix_resolveflow_deliveries_due ON resolveflow_deliveries (subscriber, state, next_attempt_at);

CREATE TABLE resolveflow_relay_cursors (
    subscriber VARCHAR(100) NOT NULL,
    after_xact BIGINT NOT NULL,
    after_position BIGINT NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (subscriber)
);

CREATE TABLE resolveflow_deadline_marks (
    tenant VARCHAR(200) DEFAULT '' NOT NULL,
    case_id VARCHAR(200) NOT NULL,
    kind VARCHAR(20) NOT NULL,
    ref VARCHAR(200) NOT NULL,
    due DATETIME NOT NULL,
    mark VARCHAR(20) NOT NULL,
    event_id VARCHAR(36) NOT NULL,
    missed_at DATETIME,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (tenant, case_id, kind, ref, due, mark),
    CONSTRAINT fk_resolveflow_deadline_marks_case FOREIGN KEY(tenant, case_id) REFERENCES resolveflow_cases (tenant, case_id)
);

CREATE INDEX ix_resolveflow_deadline_marks_missed ON resolveflow_deadline_marks (missed_at);

CREATE TABLE resolveflow_deadlines (
    tenant VARCHAR(200) DEFAULT '' NOT NULL,
    case_id VARCHAR(200) NOT NULL,
    kind VARCHAR(20) NOT NULL,
    ref VARCHAR(200) NOT NULL,
    methodology_id VARCHAR(100) NOT NULL,
    description TEXT NOT NULL,
    due DATETIME NOT NULL,
    due_fired BOOLEAN DEFAULT 0 NOT NULL,
    PRIMARY KEY (tenant, case_id, kind, ref),
    CONSTRAINT fk_resolveflow_deadlines_case FOREIGN KEY(tenant, case_id) REFERENCES resolveflow_cases (tenant, case_id)
);

CREATE INDEX ix_resolveflow_deadlines_due ON resolveflow_deadlines (tenant, due, case_id, kind, ref);

CREATE INDEX ix_resolveflow_deadlines_unfired ON resolveflow_deadlines (due, tenant, case_id, kind, ref) WHERE due_fired = 0;

CREATE TABLE resolveflow_entries (
    tenant VARCHAR(200) DEFAULT '' NOT NULL,
    case_id VARCHAR(200) NOT NULL,
    seq INTEGER NOT NULL,
    action VARCHAR(100) NOT NULL,
    from_step VARCHAR(100) NOT NULL,
    step VARCHAR(100) NOT NULL,
    actor VARCHAR(200) NOT NULL,
    actor_roles TEXT,
    at DATETIME NOT NULL,
    evidence JSON,
    hash VARCHAR(64) NOT NULL,
    seal VARCHAR(105),
    PRIMARY KEY (tenant, case_id, seq),
    CONSTRAINT ck_resolveflow_entries_seq CHECK (seq >= 1),
    CONSTRAINT fk_resolveflow_entries_case FOREIGN KEY(tenant, case_id) REFERENCES resolveflow_cases (tenant, case_id)
);

CREATE TABLE resolveflow_outbox (
    position INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    event_id VARCHAR(36) NOT NULL,
    tenant VARCHAR(200) DEFAULT '' NOT NULL,
    case_id VARCHAR(200) NOT NULL,
    seq INTEGER NOT NULL,
    event_type VARCHAR(100) NOT NULL,
    envelope JSON NOT NULL,
    xact_id BIGINT NOT NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT uq_resolveflow_outbox_event_id UNIQUE (event_id),
    CONSTRAINT fk_resolveflow_outbox_case FOREIGN KEY(tenant, case_id) REFERENCES resolveflow_cases (tenant, case_id)
);

CREATE INDEX ix_resolveflow_outbox_case ON resolveflow_outbox (tenant, case_id, xact_id);

CREATE INDEX ix_resolveflow_outbox_order ON resolveflow_outbox (xact_id, position);

CREATE INDEX ix_resolveflow_outbox_tenant ON resolveflow_outbox (tenant, xact_id, position);

CREATE TABLE resolveflow_refusals (
    id INTEGER NOT NULL,
    tenant VARCHAR(200) DEFAULT '' NOT NULL,
    case_id VARCHAR(200) NOT NULL,
    action VARCHAR(100) NOT NULL,
    step VARCHAR(100) NOT NULL,
    codes JSON NOT NULL,
    actor VARCHAR(200) NOT NULL,
    at DATETIME NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_resolveflow_refusals_case FOREIGN KEY(tenant, case_id) REFERENCES resolveflow_cases (tenant, case_id)
);

CREATE INDEX ix_resolveflow_refusals_case ON resolveflow_refusals (tenant, case_id, at);

CREATE TABLE resolveflow_idempotency (
    tenant VARCHAR(200) DEFAULT '' NOT NULL,
    case_id VARCHAR(200) NOT NULL,
    idempotency_key VARCHAR(200) NOT NULL,
    fingerprint VARCHAR(64) NOT NULL,
    seq INTEGER NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (tenant, case_id, idempotency_key),
    CONSTRAINT fk_resolveflow_idempotency_entry FOREIGN KEY(tenant, case_id, seq) REFERENCES resolveflow_entries (tenant, case_id, seq)
);
""",
}
# Dropped children first (the reverse of the order they are created in).
TABLES = [
    "resolveflow_idempotency",
    "resolveflow_refusals",
    "resolveflow_outbox",
    "resolveflow_entries",
    "resolveflow_deadlines",
    "resolveflow_deadline_marks",
    "resolveflow_relay_cursors",
    "resolveflow_deliveries",
    "resolveflow_cases",
]


def statements(vendor: str) -> list[str]:
    """The CREATE statements for a Django database vendor ("sqlite" or "postgresql")."""
    sql = SQL.get(vendor)
    if sql is None:
        raise NotImplementedError(f"resolveflow's tables exist for SQLite and PostgreSQL, not for {vendor}")
    return [part.strip() for part in sql.strip().removesuffix(";").split(";\n\n")]


class CreateStoreTables(migrations.operations.base.Operation):
    """Create the store's tables with the SQL for the connection's vendor (reversible: drops them)."""

    reversible = True
    reduces_to_sql = True

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass  # the tables are not models (Case below is an unmanaged view of one)

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        for statement in statements(schema_editor.connection.vendor):
            schema_editor.execute(statement)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        for table in TABLES:
            schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(table)}")

    def describe(self) -> str:
        return "Create resolveflow's tables"


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []

    operations = [
        CreateStoreTables(),
        migrations.CreateModel(
            name="Case",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "tenant", "case_id", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("tenant", models.CharField(max_length=200)),
                ("case_id", models.CharField(max_length=200)),
                ("methodology_id", models.CharField(max_length=100)),
                ("methodology_version", models.CharField(max_length=100)),
                ("step", models.CharField(max_length=100)),
                ("outcome", models.CharField(max_length=100, null=True)),
                ("last_seq", models.IntegerField()),
            ],
            options={
                "db_table": "resolveflow_cases",
                "managed": False,
                "default_permissions": ("view",),
            },
        ),
    ]
