"""Initial schema: instances and their records, rota versions, locks, scenarios, the audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from roster.audit import UTCDateTime, drop_guard_statements, guard_statements

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instance",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("week_start", sa.Date, nullable=False, index=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("counts", sa.Text, nullable=False),
    )
    op.create_table(
        "instance_record",
        sa.Column(
            "instance_id",
            sa.Integer,
            sa.ForeignKey("instance.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("record_id", sa.String(200), nullable=True),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_table(
        "rota_version",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "instance_id", sa.Integer, sa.ForeignKey("instance.id"), nullable=False, index=True
        ),
        sa.Column("week_start", sa.Date, nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("rota_version.id"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("published_by", sa.String(200), nullable=True),
        sa.Column("n_assignments", sa.Integer, nullable=False),
        sa.Column("n_unassigned", sa.Integer, nullable=False),
        sa.Column("n_locks", sa.Integer, nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'superseded')", name="rota_version_status"
        ),
    )
    op.create_table(
        "rota_assignment",
        sa.Column(
            "rota_version_id",
            sa.Integer,
            sa.ForeignKey("rota_version.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("visit_id", sa.String(200), nullable=False),
        sa.Column("carer_id", sa.String(200), nullable=False),
        sa.Column("start_min", sa.Integer, nullable=False),
        sa.Column("end_min", sa.Integer, nullable=False),
        sa.Column("travel_from", sa.String(200), nullable=False),
        sa.Column("travel_miles", sa.Float, nullable=False),
        sa.Column("travel_min", sa.Integer, nullable=False),
    )
    op.create_table(
        "rota_unassigned",
        sa.Column(
            "rota_version_id",
            sa.Integer,
            sa.ForeignKey("rota_version.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("visit_id", sa.String(200), nullable=False),
        sa.Column("missing", sa.Integer, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
    )
    op.create_table(
        "rota_lock",
        sa.Column(
            "rota_version_id",
            sa.Integer,
            sa.ForeignKey("rota_version.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("visit_id", sa.String(200), nullable=False),
        sa.Column("carer_id", sa.String(200), nullable=False),
    )
    op.create_table(
        "scenario",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("instance_id", sa.Integer, sa.ForeignKey("instance.id"), nullable=False),
        sa.Column("base_instance_id", sa.Integer, sa.ForeignKey("instance.id"), nullable=True),
        sa.Column("rota_version_id", sa.Integer, sa.ForeignKey("rota_version.id"), nullable=True),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("rota_version_id", sa.Integer, nullable=True),
        sa.Column("new_rota_version_id", sa.Integer, nullable=True),
        sa.Column("visit_id", sa.String(200), nullable=True),
        sa.Column("carer_id", sa.String(200), nullable=True),
        sa.Column("before", sa.Text, nullable=True),
        sa.Column("after", sa.Text, nullable=True),
    )
    for statement in guard_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_guard_statements(op.get_bind().dialect.name):
        op.execute(statement)
    for table in (
        "audit_entry",
        "scenario",
        "rota_lock",
        "rota_unassigned",
        "rota_assignment",
        "rota_version",
        "instance_record",
        "instance",
    ):
        op.drop_table(table)
