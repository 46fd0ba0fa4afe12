"""outage.service and one open outage per server and check; server.annual_fee_cents

Revision ID: 0004
Revises: 0002f
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0002f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("end_at IS NULL")


def upgrade() -> None:
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
    op.drop_index("uq_outage_open", table_name="outage", sqlite_where=OPEN, postgresql_where=OPEN)
    with op.batch_alter_table("outage", schema=None) as batch_op:
        batch_op.drop_column("service")
    with op.batch_alter_table("server", schema=None) as batch_op:
        batch_op.drop_column("annual_fee_cents")
