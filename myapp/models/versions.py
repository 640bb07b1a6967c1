"""The data version: what every committed write changes, for ETags and the page cache (SPEC §14)."""

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class DataVersion(db.Model):
    """One shard of the data version (myapp/data_version.py).

    The version is (epoch, the sum of every shard's generation). A committed write adds 1 to one
    shard's generation, so the sum grows with every commit; `flask restore`, `flask seed` and the
    migrations give every row a new random epoch, so a database put back from a backup never
    answers with a version served before. SQLite keeps shard 0 only; PostgreSQL writers spread
    over a few shards, as the row counts do, so that they do not all queue on one row.
    """

    __tablename__ = "data_versions"

    shard: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    epoch: Mapped[str] = mapped_column(String(32), default="", server_default="")
