"""the change log that carries client changes to every worker's cache

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 20:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "client_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("jti", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_changes")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("client_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_client_changes_at"), ["at"], unique=False)


def downgrade():
    with op.batch_alter_table("client_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_changes_at"))
    op.drop_table("client_changes")
