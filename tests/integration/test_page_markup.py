"""Issue 22: parts of every page written in Python instead of Flask-Admin's macros must stay
the macros' markup, byte for byte (a Flask-Admin upgrade that changes a macro fails here)."""
import pytest
from flask import render_template_string
from flask_login import login_user
from sqlalchemy import select

from admin_app.menu import main_menu
from models import AdminUser, db
from tests.conftest import login, make_admin

MACRO_MENU = "{% import 'admin/layout.html' as layout with context %}{{ layout.menu() }}"


def _view(app, endpoint):
    admin = app.extensions["admin"][0]
    return next(v for v in [admin.index_view, *admin._views] if v.endpoint == endpoint)


@pytest.mark.parametrize("role", ["owner", "support", "viewer"])
@pytest.mark.parametrize("endpoint,url", [("customer", "/admin/customer/"),
                                          ("audit", "/admin/audit/"),
                                          ("admin", "/admin/"),
                                          ("drift", "/admin/drift/")])
def test_the_menu_written_in_python_is_flask_admins(app, role, endpoint, url):
    user_id = make_admin(role).id
    view = _view(app, endpoint)
    with app.test_request_context(url):
        login_user(db.session.get(AdminUser, user_id))
        ours = main_menu(view)
        theirs = render_template_string(MACRO_MENU, admin_view=view)
    assert ours is not None  # the panel's menu is one main_menu writes itself
    assert "Customers" in ours
    assert ours == theirs


def test_a_menu_item_with_an_icon_is_left_to_the_macro(app, client):
    login(client, "owner")
    view = _view(app, "customer")
    item = next(i for i in view.admin.menu() if not i.is_category())
    item.icon_type, item.icon_value = "fa", "fa-md-test"
    try:
        page = client.get("/admin/customer/").get_data(as_text=True)
        with app.test_request_context("/admin/customer/"):
            login_user(db.session.scalar(select(AdminUser)))
            assert main_menu(view) is None
    finally:
        item.icon_type = item.icon_value = None
    assert '<i class="fa fa-md-test"></i>' in page
    assert "fa-md-test" not in client.get("/admin/customer/").get_data(as_text=True)


@pytest.mark.parametrize("endpoint", ["customer", "transaction", "subscription"])
def test_list_addresses_from_templates_are_flask_admins(app, endpoint):
    """The list's links (pager, sort, page size) are written from one address per kind with
    the numbers put in (SecureModelView._get_list_url, issue 22): the same addresses as
    Flask-Admin's _get_list_url, for every kind of argument and where markers cannot stand."""
    from flask_admin.model.base import BaseModelView, ViewArgs

    view = _view(app, endpoint)
    searches = [None, "a&b=c ünï", "987654321987"]
    filters = [None, [(0, "x", "US & 1")]]
    with app.test_request_context(f"{view.url}/"):
        for _ in range(2):  # the templates' first build, then their reuse
            for page in (None, 0, 1, 7, True):
                for sort in (None, 0, 2, "1"):
                    for desc in (None, False, True, 1):
                        for size in (None, 20, 50, 100, 77):
                            for search in searches:
                                for flt in filters:
                                    for extra in ({}, {"page": "9"}):
                                        args = ViewArgs(page=page, page_size=size, sort=sort,
                                                        sort_desc=desc, search=search,
                                                        filters=flt, extra_args=extra)
                                        assert view._get_list_url(args) == \
                                            BaseModelView._get_list_url(view, args)
