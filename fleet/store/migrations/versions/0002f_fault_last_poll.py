"""fault.last_poll_at: the poll last applied to a fault, so applying the same poll twice changes nothing

Revision ID: 0002f
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fleet.store.models

revision: str = "0002f"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fault", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_poll_at", fleet.store.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fault", schema=None) as batch_op:
        batch_op.drop_column("last_poll_at")
