"""The QA sample's runs: window, per-agent counts, composition of sample and population.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "qa_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=600), nullable=False),
        sa.Column("opportunity_id", sa.String(length=100), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("window_end", UTCDateTime(), nullable=False),
        sa.Column("per_agent", sa.Integer(), nullable=False),
        sa.Column("seed", sa.String(length=700), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("population_total", sa.Integer(), nullable=False),
        sa.Column("eligible", sa.Integer(), nullable=False),
        sa.Column("skipped_assessed", sa.Integer(), nullable=False),
        sa.Column("sample_total", sa.Integer(), nullable=False),
        sa.Column("per_agent_counts", sa.JSON(), nullable=False),
        sa.Column("sample_composition", sa.JSON(), nullable=False),
        sa.Column("population_composition", sa.JSON(), nullable=False),
        sa.Column("backup_used", sa.Boolean(), nullable=False),
        sa.Column("backups", sa.JSON(), nullable=False),
        sa.Column("tickets", sa.JSON(), nullable=False),
        sa.Column("started", sa.JSON(), nullable=False),
        sa.Column("duplicates", sa.JSON(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id"),
    )
    op.create_index(
        "ix_qa_samples_opportunity_window", "qa_samples", ["opportunity_id", "window_end"]
    )


def downgrade() -> None:
    op.drop_index("ix_qa_samples_opportunity_window", table_name="qa_samples")
    op.drop_table("qa_samples")
