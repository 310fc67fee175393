"""Migrations the panel applies by itself."""
from flask import current_app
from flask_migrate import upgrade


def upgrade_quietly():
    """Bring the database up to date without Alembic's INFO lines (migrations/env.py reads
    the flag); `flask db upgrade` is the command where migrations speak."""
    current_app.config["MIGRATIONS_QUIET"] = True
    try:
        upgrade()
    finally:
        current_app.config.pop("MIGRATIONS_QUIET", None)
