"""Users, their posts and the kept counts (SQLAlchemy 2 typed mappings)."""

import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..types import RowId, UTCDateTime, now_utc

ROLES = ("member", "admin")


def trigram_index(name, column):
    """A GIN trigram index for ILIKE '%...%' on PostgreSQL only (migrations/env.py skips it
    elsewhere, as create_all does)."""
    index = Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})
    return index.ddl_if(dialect="postgresql")


class User(UserMixin, db.Model):
    """A person in the lists, and an account when they have a password (myapp/auth/)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(RowId, primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    email: Mapped[str] = mapped_column(String(120))
    # Kept exact by myapp/counters.py in the transaction that adds or removes a post, so that
    # lists and /stats never count rows per request.
    post_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # Bumped by SQLAlchemy on every ORM update; an edit made from an older version is refused.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)
    # An Argon2id hash (myapp/auth/passwords.py); None: seeded or imported, cannot sign in.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10), default="member", server_default="member")

    # The database deletes the posts (ON DELETE CASCADE); passive_deletes keeps the ORM from
    # loading them first, and the ORM cascade still covers posts already in the session.
    posts: Mapped[list["Post"]] = relationship(
        back_populates="author", cascade="all, delete-orphan", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # Uniqueness ignoring case, enforced by the database so that racing requests cannot
        # both win. The app's check uses the same lower() so that both agree on what is equal.
        Index("uq_users_username_lower", func.lower(username), unique=True),
        Index("uq_users_email_lower", func.lower(email), unique=True),
        # One index per sort of the lists (myapp/users/queries.py SORT_COLUMNS), each ending with
        # the id as the sort does, so that a page is read in index order with no sort step and a
        # typed deep page counts past index entries only (migration 0006). SQLite ends every index
        # with the rowid (the id) by itself, so there the unique indexes above already serve the
        # username and email sorts and their copies with the id are made on PostgreSQL only. There
        # an index on lower(x) is read alone (index-only) only when it holds x too: INCLUDE.
        Index("ix_users_username_lower_id", func.lower(username), id, postgresql_include=["username"]).ddl_if(
            dialect="postgresql"
        ),
        Index("ix_users_email_lower_id", func.lower(email), id, postgresql_include=["email"]).ddl_if(
            dialect="postgresql"
        ),
        Index("ix_users_created_at_id", created_at, id),
        Index("ix_users_post_count_id", post_count, id),
        # "Is there an admin?" (the sign-in page, the last-admin rule) without scanning every user.
        Index("ix_users_role", role),
        # Substring search on PostgreSQL (pg_trgm; SQLite has FTS5 tables instead: myapp/search/).
        trigram_index("ix_users_username_trgm", "username"),
        trigram_index("ix_users_email_trgm", "email"),
        CheckConstraint(role.in_(ROLES), name="role"),
        # Ids are never reused (SPEC §13): a deleted row's id stays its own in the history.
        {"sqlite_autoincrement": True},
    )

    # Flask-Login: the session holds "<id>:<stamp>", and the stamp is derived from the password
    # hash, so a new password (from any path: /account, an admin, flask create-admin) signs out
    # every session that was opened with the old one.
    @property
    def session_stamp(self):
        if self.password_hash is None:
            return None
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    def get_id(self):
        return f"{self.id}:{self.session_stamp}"

    @property
    def is_active(self):
        return self.password_hash is not None  # no password: cannot sign in (Flask-Login asks)

    @property
    def is_authenticated(self):
        # Whoever a session or token names is authenticated, also a password-less user holding
        # a token from `flask create-token` (UserMixin would tie this to is_active).
        return True

    @property
    def is_admin(self):
        return self.role == "admin"

    def __repr__(self):
        return f"<User {self.id} {self.username!r}>"


# What a page of posts shows from the posts table (myapp/posts/queries.py).
PAGE_COLUMNS = ["title", "created_at", "user_id"]


class Post(db.Model):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(RowId, primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="", server_default="")
    user_id: Mapped[int] = mapped_column(RowId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    author: Mapped[User] = relationship(back_populates="posts")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # The sorts of the posts lists (myapp/posts/queries.py), ending with the id; a user's
        # posts newest first (their page, /posts?user=) from one index range (migration 0006).
        Index("ix_posts_created_at_id", created_at, id),
        # PostgreSQL: with what a page shows, so that a search's walk reads the index alone (0008).
        Index("ix_posts_title_lower_id", func.lower(title), id, postgresql_include=PAGE_COLUMNS),
        Index("ix_posts_user_id_created_at_id", user_id, created_at, id),
        trigram_index("ix_posts_title_trgm", "title"),
        {"sqlite_autoincrement": True},
    )

    def __repr__(self):
        return f"<Post {self.id} {self.title!r}>"


class RowCount(db.Model):
    """Exact row counts of users and posts, so that pages never run count(*) on a whole table."""

    __tablename__ = "row_counts"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


class PageCount(db.Model):
    """Rows per prefix of a list's sort key, so that a typed ?page=N finds its rows without
    counting past the ones before them (myapp/page_counts.py)."""

    __tablename__ = "page_counts"

    # The list ("users", "posts"), the prefix's length, the prefix of the sort key's text, and
    # the writer's shard (PostgreSQL: writers add to their own rows, as myapp/counters.py does).
    list: Mapped[str] = mapped_column(String(20), primary_key=True)
    level: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    prefix: Mapped[str] = mapped_column(String(80), primary_key=True)
    shard: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # The prefix one level up: the walk reads the children of one prefix at a time.
    parent: Mapped[str] = mapped_column(String(80))
    n: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (Index("ix_page_counts_parent", "list", "level", "parent", "prefix"),)
