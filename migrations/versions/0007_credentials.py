"""credentials beyond a shared secret: key clients, allowed networks, usage, leak reports

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-03 09:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.alter_column("secret_hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(sa.Column("previous_secret_last_used_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("jwks", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("allowed_networks", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("network_alert_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_used_ip", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_clients_secret_hash"), ["secret_hash"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_clients_previous_secret_hash"), ["previous_secret_hash"], unique=False
        )
    with op.batch_alter_table("clients", schema=None) as batch_op:
        # the default served existing rows; new ones get theirs from the model
        batch_op.alter_column("allowed_networks", existing_type=sa.Text(), server_default=None)
    op.create_table(
        "used_assertions",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("jti", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "jti", name=op.f("pk_used_assertions")),
    )
    op.create_index(
        op.f("ix_used_assertions_expires_at"), "used_assertions", ["expires_at"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_used_assertions_expires_at"), table_name="used_assertions")
    op.drop_table("used_assertions")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clients_previous_secret_hash"))
        batch_op.drop_index(batch_op.f("ix_clients_secret_hash"))
        batch_op.drop_column("last_used_ip")
        batch_op.drop_column("network_alert_at")
        batch_op.drop_column("allowed_networks")
        batch_op.drop_column("jwks")
        batch_op.drop_column("previous_secret_last_used_at")
        # key clients have no secret: they cannot survive a schema that requires one
        batch_op.execute("DELETE FROM clients WHERE secret_hash IS NULL")
        batch_op.alter_column("secret_hash", existing_type=sa.String(length=64), nullable=False)
