"""GET /healthz: a real query, so a load balancer learns when the database stops answering."""

from flask import Blueprint, current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .models import User
from .snapshot import snapshot_info

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """{"status": "ok", "mode": ...} after a query on the users table; 503 with a reason when it fails."""
    try:
        db.session.execute(select(User.id).limit(1)).all()
    except SQLAlchemyError as error:
        db.session.rollback()
        # The reason names the kind of failure, never the database's path or URL.
        current_app.logger.warning("health check failed: %s", error)
        return {"status": "error", "reason": f"database did not answer ({type(error).__name__})"}, 503
    return {"status": "ok", "database": db.engine.dialect.name, **snapshot_info(current_app)}
