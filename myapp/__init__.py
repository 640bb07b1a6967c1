"""The application factory."""

import os
from pathlib import Path

from flask import Flask

import config as app_config

from . import conditional, security
from .conditional.fast_path import FastPath
from .converters import IdConverter
from .data_version import track_writes
from .database import configure_engine, init_database
from .errors import register_errorhandlers
from .extensions import csrf, db, migrate
from .observability import init_observability
from .transactions import retry_transactions

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config=None):
    """Make the app. config: a config class or name; unset, APP_CONFIG, else production."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=os.environ.get("INSTANCE_PATH") or str(PROJECT_ROOT / "instance"),
    )
    load_config(app, config)
    configure_engine(app)
    app.jinja_env.add_extension("jinja2.ext.do")  # lets the form macro build its attributes
    register_extensions(app)
    init_database(app)
    track_writes(app)  # every commit that wrote changes the data version (ETags, page cache)
    init_observability(app)  # before security: its after_request must run last
    # Repeated reads answered before Flask; installed before security wraps wsgi_app, so that
    # RequestGuard (the Host check) and ProxyFix run first.
    app.wsgi_app = FastPath(app.wsgi_app, app)
    security.init_app(app)
    init_accounts(app)
    conditional.init_app(app)  # ETags, 304s and the page cache: around the accounts' identify()
    register_blueprints(app)
    retry_transactions(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def load_config(app, config):
    if config is None:
        config = os.environ.get("APP_CONFIG") or "production"
    if isinstance(config, str):
        config = app_config.config_class(config)
    app.config.from_object(config())
    security.make_private_folder(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "app.db")
    if app.config.get("READ_ONLY"):  # snapshot mode: serve an in-memory copy, refuse writes
        from . import snapshot

        snapshot.init_app(app)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = app_config.instance_secret_key(app.instance_path)
    security.check_secret_key(app.config)
    app.url_map.converters["id"] = IdConverter


def register_extensions(app):
    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    from . import counters  # noqa: F401 - registers the count-keeping events on the models
    from .history import writer  # noqa: F401 - registers the history's events on the session


def init_accounts(app):
    from .auth import identity

    identity.init_app(app)


def register_blueprints(app):
    from . import exports, health, stats
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .history import bp as history_bp
    from .posts import bp as posts_bp
    from .users import bp as users_bp

    for blueprint in (users_bp, posts_bp, stats.bp, health.bp, api_bp, exports.bp, auth_bp, history_bp):
        app.register_blueprint(blueprint)


def register_commands(app):
    from .commands import register

    register(app)
