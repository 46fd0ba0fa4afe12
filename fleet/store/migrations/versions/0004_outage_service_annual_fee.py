"""outage.service and one open outage per server and check; server.annual_fee_cents; supplier_order

Revision ID: 0004
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fleet.store.models

revision: str = "0004"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("end_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "supplier_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("part_model_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("ordered_at", fleet.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", fleet.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(), nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_supplier_order_qty"),
        sa.CheckConstraint("state IN ('ordered','received','cancelled')", name="ck_supplier_order_state"),
        sa.ForeignKeyConstraint(["part_model_id"], ["part_model.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_supplier_order_site_id", "supplier_order", ["site_id"])
    op.create_index("ix_supplier_order_part_model_id", "supplier_order", ["part_model_id"])
    with op.batch_alter_table("server", schema=None) as batch_op:
        batch_op.add_column(sa.Column("annual_fee_cents", sa.Integer(), nullable=True))
    with op.batch_alter_table("outage", schema=None) as batch_op:
        # Outages recorded before this revision came from the web check.
        batch_op.add_column(sa.Column("service", sa.String(), nullable=False, server_default="web"))
    # Earlier code could leave two open outages of one server: keep the earliest open, close the others at their start
    # (the report merges overlapping records, so no minute is lost).
    op.execute(
        "UPDATE outage SET end_at = start_at WHERE end_at IS NULL AND id NOT IN "
        "(SELECT min(id) FROM outage WHERE end_at IS NULL GROUP BY server_id, service)"
    )
    op.create_index(
        "uq_outage_open", "outage", ["server_id", "service"], unique=True, sqlite_where=OPEN, postgresql_where=OPEN
    )


def downgrade() -> None:
    op.drop_index("ix_supplier_order_part_model_id", table_name="supplier_order")
    op.drop_index("ix_supplier_order_site_id", table_name="supplier_order")
    op.drop_table("supplier_order")
    op.drop_index("uq_outage_open", table_name="outage", sqlite_where=OPEN, postgresql_where=OPEN)
    with op.batch_alter_table("outage", schema=None) as batch_op:
        batch_op.drop_column("service")
    with op.batch_alter_table("server", schema=None) as batch_op:
        batch_op.drop_column("annual_fee_cents")
