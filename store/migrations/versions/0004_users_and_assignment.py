"""The user directory, a reassigned assessment's lead, and a learning task's closing deadline.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("teams", sa.JSON(), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", name="uq_users_name"),
        sa.UniqueConstraint("token_hash", name="uq_users_token_hash"),
    )
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(sa.Column("assigned_lead", sa.String(length=200), nullable=True))
    with op.batch_alter_table("learning_tasks") as batch:
        batch.add_column(sa.Column("closes_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("learning_tasks") as batch:
        batch.drop_column("closes_at")
    with op.batch_alter_table("assessments") as batch:
        batch.drop_column("assigned_lead")
    op.drop_table("users")
