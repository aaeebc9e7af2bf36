"""At most one published rota version per week, enforced by the database.

Two managers publishing the same week at the same moment would otherwise both leave a version
``published``; with this partial unique index the second transaction fails and nothing changes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

WHERE = sa.text("status = 'published'")


def upgrade() -> None:
    op.create_index(
        "rota_version_one_published_per_week",
        "rota_version",
        ["week_start"],
        unique=True,
        sqlite_where=WHERE,
        postgresql_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index("rota_version_one_published_per_week", table_name="rota_version")
