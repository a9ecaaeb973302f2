"""operations: metric samples for the dashboard; outbox attempts in progress and how mail left

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 09:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "metric_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_samples")),
        sa.UniqueConstraint("instance", "at", name=op.f("uq_metric_samples_instance")),
    )
    with op.batch_alter_table("metric_samples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_metric_samples_at"), ["at"], unique=False)
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sending_since", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("delivered_via", sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("delivered_via")
        batch_op.drop_column("sending_since")
    with op.batch_alter_table("metric_samples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_metric_samples_at"))
    op.drop_table("metric_samples")
