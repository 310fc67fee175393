"""Flask extensions, created unbound and set up in create_app()."""
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from models import db

migrate = Migrate()
login_manager = LoginManager()
mail = Mail()
csrf = CSRFProtect()

__all__ = ["db", "migrate", "login_manager", "mail", "csrf"]
