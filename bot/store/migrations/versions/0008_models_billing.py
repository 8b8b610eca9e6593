"""Billing per model: what the API billed for each job and its cost, and the cost in the usage rollups.

Jobs finished before this revision are taken as billed for their delivered images at Seedream 4.0's price
($0.03, the old PRICE_PER_IMAGE default): their model's price was not recorded.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OLD_PRICE = 0.03


def upgrade() -> None:
    """Add `images_billed` and `cost` to `jobs`, `cost` to the rollups, and fill them for finished jobs."""
    # Plain ADD COLUMNs: no table rebuild, so a big SQLite history upgrades in an instant.
    op.add_column("jobs", sa.Column("images_billed", sa.Integer, nullable=False, server_default=sa.text("0")))
    op.add_column("jobs", sa.Column("cost", sa.Float, nullable=False, server_default=sa.text("0")))
    for table in ("usage_daily", "usage_total"):
        op.add_column(table, sa.Column("cost", sa.Float, nullable=False, server_default=sa.text("0")))
    price = sa.bindparam("price", OLD_PRICE, type_=sa.Float)
    jobs = sa.table("jobs", sa.column("images_delivered"), sa.column("images_billed"), sa.column("cost"))
    finished = sa.text("finished_at IS NOT NULL")
    op.execute(
        jobs.update()
        .where(finished)
        .values(images_billed=jobs.c.images_delivered, cost=jobs.c.images_delivered * price)
    )
    for name in ("usage_daily", "usage_total"):
        rollup = sa.table(name, sa.column("images"), sa.column("cost"))
        op.execute(rollup.update().values(cost=rollup.c.images * price))
