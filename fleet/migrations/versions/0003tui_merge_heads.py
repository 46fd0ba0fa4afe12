"""Join the two 0002 heads (service host, fault last poll) so `upgrade head` has one target. No schema change.

Revision ID: 0003tui
Revises: 0002, 0002f
"""

from __future__ import annotations

revision: str = "0003tui"
down_revision: tuple[str, ...] = ("0002", "0002f")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
