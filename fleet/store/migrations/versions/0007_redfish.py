"""Redfish controllers: 'redfish' as a controller protocol, and the server's TLS settings (verify, CA, pinned cert)

Revision ID: 0007
Revises: 0010
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "controller_protocol IN ('ipmi','snmp','none')"
NEW = "controller_protocol IN ('ipmi','snmp','redfish','none')"


def upgrade() -> None:
    with op.batch_alter_table("server", schema=None) as batch_op:
        batch_op.add_column(sa.Column("controller_tls_verify", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("controller_ca_file", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("controller_cert_sha256", sa.String(), nullable=True))
        batch_op.drop_constraint("ck_server_protocol", type_="check")
        batch_op.create_check_constraint("ck_server_protocol", sa.text(NEW))


def downgrade() -> None:
    op.execute("UPDATE server SET controller_protocol = 'none' WHERE controller_protocol = 'redfish'")
    with op.batch_alter_table("server", schema=None) as batch_op:
        batch_op.drop_constraint("ck_server_protocol", type_="check")
        batch_op.create_check_constraint("ck_server_protocol", sa.text(OLD))
        batch_op.drop_column("controller_cert_sha256")
        batch_op.drop_column("controller_ca_file")
        batch_op.drop_column("controller_tls_verify")
