"""Drafting outputs: coaching note, QA summary, evidence report, process issues, repeat themes.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(sa.Column("coaching_note", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("qa_summary", sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("evidence_report", sa.JSON(), nullable=False, server_default="[]")
        )
        batch.add_column(
            sa.Column("process_issues", sa.JSON(), nullable=False, server_default="[]")
        )
        batch.add_column(sa.Column("repeat_themes", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(
            sa.Column("auto_eligible", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("occurred_at", UTCDateTime(), nullable=True))
        batch.create_index("ix_assessments_occurred_at", ["occurred_at"])
        batch.create_index("ix_assessments_agent_time", ["agent_id", "occurred_at"])


def downgrade() -> None:
    with op.batch_alter_table("assessments") as batch:
        batch.drop_index("ix_assessments_agent_time")
        batch.drop_index("ix_assessments_occurred_at")
        for column in (
            "occurred_at",
            "auto_eligible",
            "repeat_themes",
            "process_issues",
            "evidence_report",
            "qa_summary",
            "coaching_note",
        ):
            batch.drop_column(column)
