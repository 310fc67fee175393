"""Issue 8/13: argon2 is cheap under TESTING only; production keeps argon2-cffi's parameters."""
import argon2
from argon2 import PasswordHasher

from models import admin_user
from models.admin_user import AdminUser


def _params(hash_):
    return argon2.extract_parameters(hash_)


def test_test_suite_hashes_cheaply_and_production_does_not():
    try:
        admin_user.use_cheap_hashing(True)
        cheap = AdminUser(email="a@example.com")
        cheap.set_password("long enough password")
        admin_user.use_cheap_hashing(False)
        real = AdminUser(email="b@example.com")
        real.set_password("long enough password")
    finally:
        admin_user.use_cheap_hashing(True)
    assert (_params(cheap.password_hash).time_cost,
            _params(cheap.password_hash).memory_cost) == (1, 8)
    default = PasswordHasher()
    assert _params(real.password_hash) == _params(default.hash("x"))
    assert _params(real.password_hash).memory_cost >= 65536


def test_a_production_hash_still_verifies_under_cheap_hashing():
    real = PasswordHasher().hash("long enough password")
    user = AdminUser(email="c@example.com", password_hash=real)
    admin_user.use_cheap_hashing(True)
    assert user.check_password("long enough password")
    assert not user.check_password("wrong")


def test_setting_a_password_ends_sessions_and_voids_the_link():
    user = AdminUser(email="d@example.com", session_token="old",
                     password_link_digest="f" * 64)
    user.set_password("long enough password")
    assert user.session_token != "old" and len(user.session_token) >= 40
    assert user.password_link_digest is None and user.password_set
