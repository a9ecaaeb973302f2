"""revocation events carry the scopes a narrowed client kept

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 08:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("revocation_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scope", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("revocation_events", schema=None) as batch_op:
        batch_op.drop_column("scope")
