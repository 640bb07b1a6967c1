"""Configuration: production by default, names or classes, the database path in the instance folder."""

import pytest

from config import ProductionConfig, TestingConfig
from myapp import create_app


def test_unset_app_config_means_production(monkeypatch, tmp_path):
    monkeypatch.delenv("APP_CONFIG", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert not app.testing and not app.debug
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/app.db"


def test_config_by_name_class_or_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("APP_CONFIG", "development")
    assert create_app().debug
    assert create_app(TestingConfig).testing
    assert not create_app("Production").testing
    assert create_app(ProductionConfig).config["MAX_CONTENT_LENGTH"] == 1024 * 1024


def test_unknown_config_name_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ValueError, match="APP_CONFIG must be one of"):
        create_app("staging")


def test_database_url_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/other.db")
    assert create_app("production").config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/other.db"
