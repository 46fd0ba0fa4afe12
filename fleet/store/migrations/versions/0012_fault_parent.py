"""fault.parent_id: a server's lost power feed attached to its rack's one power fault

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fault", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_fault_parent_id_fault", "fault", ["parent_id"], ["id"])
        batch_op.create_index("ix_fault_parent_id", ["parent_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fault", schema=None) as batch_op:
        batch_op.drop_index("ix_fault_parent_id")
        batch_op.drop_constraint("fk_fault_parent_id_fault", type_="foreignkey")
        batch_op.drop_column("parent_id")
