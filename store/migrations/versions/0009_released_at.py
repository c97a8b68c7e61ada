"""When an assessment's coaching note was released to its agent: a lead's approval or
override, or the virtual coach taking the case. The agent sees only released assessments; an
assessment whose review window closed undecided was never released, though it is closed.

Existing rows take the time their coaching started, from the `coaching_started` measurement
event every release appends.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store.types import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(sa.Column("released_at", UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE assessments SET released_at = ("
        "SELECT min(e.occurred_at) FROM measurement_events e"
        " WHERE e.assessment_id = assessments.id AND e.kind = 'coaching_started')"
    )


def downgrade() -> None:
    with op.batch_alter_table("assessments") as batch:
        batch.drop_column("released_at")
