"""bmc_audit_run: when the BMC security audit last ran (the sweep runs it again when the setting says it is due)

Revision ID: 0011
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fleet.store.models

revision: str = "0011"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bmc_audit_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", fleet.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", fleet.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("site_code", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("audited", sa.Integer(), nullable=False),
        sa.Column("not_audited", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("faults_opened", sa.Integer(), nullable=False),
        sa.Column("faults_resolved", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("bmc_audit_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bmc_audit_run_started_at"), ["started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bmc_audit_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bmc_audit_run_started_at"))
    op.drop_table("bmc_audit_run")
