"""The queue's index also holds the columns a lead's visibility is decided by (team, assigned
lead, opportunity), so counting and paging the queue read the index alone. Without them every
candidate row was read from the table; a drafted row carries its evidence report, and
`assigned_lead`, stored last, sits past it.

Building the index blocks writes to `assessments` on PostgreSQL while it runs. A large site
may build it beforehand without blocking (README, Database migrations); the upgrade then finds
it and keeps it.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ["status", "priority", "created_at"]
NEW = [*OLD, "team", "assigned_lead", "opportunity_id"]


def upgrade() -> None:
    op.create_index("ix_assessments_queue_visible", "assessments", NEW, if_not_exists=True)
    op.drop_index("ix_assessments_queue", table_name="assessments", if_exists=True)


def downgrade() -> None:
    op.create_index("ix_assessments_queue", "assessments", OLD, if_not_exists=True)
    op.drop_index("ix_assessments_queue_visible", table_name="assessments", if_exists=True)
