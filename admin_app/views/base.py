"""Base views: login required, role checks, CSRF on every form, stable sort order, cheap counts."""
import re

from flask import abort, flash, g, redirect, request, url_for
from markupsafe import Markup
from flask_admin import expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.tools import rec_getattr
from flask_login import current_user
from flask_wtf import FlaskForm
from jinja2 import pass_context
from markupsafe import escape
from sqlalchemy import desc

from admin_app.input_guard import is_db_id, page_number
from admin_app.redirects import get_redirect_target
from admin_app.templating import (JsonOnce, date, datetime_, money, profile_url,
                                  site_cached)
from admin_app.views.paging import PagingMixin
from models.sub_state import one_instant


def money_formatter(view, context, model, name):
    """List column formatter: integer minor units -> '$1,234.50' in the row's currency."""
    return money(getattr(model, name), getattr(model, "currency", None))


def customer_formatter(view, context, model, name):
    """The row's customer: the name links to the profile pop-up; the e-mail below it in small
    print, on one line (cut with … when too long for the column, whole on hover)."""
    customer = model.customer
    email = escape(customer.email)
    return Markup(f'<a href="{escape(profile_url(customer.id))}" data-toggle="modal" '
                  f'data-target="#fa_modal_window" data-profile="{escape(customer.id)}">'
                  f'{escape(customer.name)}</a><div class="small text-muted md-email" '
                  f'title="{email}">{email}</div>')


def datetime_formatter(view, context, model, name):
    return datetime_(getattr(model, name))


def date_formatter(view, context, model, name):
    """List column formatter: the store-local day (20 Dec 2026)."""
    return date(getattr(model, name))


_UNSEEN = object()
# a page number, sort column and page size no list has, replaced in the list's links
_PAGE_MARK, _SORT_MARK, _SIZE_MARK = 987654321987, 987654321989, 987654321991
_STATIC_URLS = {}  # (site root, endpoint, arguments) -> the static file's address


def _row_renderer(context, action):
    """(row id, row) -> a row action's markup: the action's own page_renderer where it has
    one (decisions made once a page), else Flask-Admin's render, row by row."""
    page_renderer = getattr(action, "page_renderer", None)
    if page_renderer is not None:
        return page_renderer(context)
    return lambda row_id, row: action.render(context, row_id, row)


class AccessMixin:
    """Every exposed method of the view requires a logged-in admin with `permission`."""

    permission = "view"

    def is_accessible(self):
        user = current_user._get_current_object()  # one look-up: the menu asks every view
        return user.is_authenticated and user.can(self.permission)

    def get_url(self, endpoint, **kwargs):
        """Flask-Admin's get_url; a static file's address (about twenty a page: the scripts
        and styles, each with its version) built once per site root, not per page (issue 22).
        """
        if not endpoint.endswith(".static") or any(k.startswith("_") for k in kwargs):
            return super().get_url(endpoint, **kwargs)
        key = (request.script_root, endpoint, tuple(sorted(kwargs.items())))
        url = _STATIC_URLS.get(key)
        if url is None:
            url = super().get_url(endpoint, **kwargs)
            if len(_STATIC_URLS) < 1000:
                _STATIC_URLS[key] = url
        return url

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(403)


class SecureModelView(AccessMixin, PagingMixin, ModelView):
    form_base_class = FlaskForm
    list_template = "admin/memberdesk_list.html"
    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = False
    page_size = 50
    can_set_page_size = True
    page_size_options = (20, 50, 100)
    search_hint = None  # the search box's placeholder, in words (not column names)

    def search_placeholder(self):
        return self.search_hint or super().search_placeholder()

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        """Flask-Admin's edit page; a role that may not edit is told so, not sent back mute."""
        if not self.can_edit and current_user.is_authenticated:
            flash(f"You can't edit {self.name.lower()}: your role ({current_user.role}) can "
                  "only look at them. Nothing was changed.", "error")
            return redirect(get_redirect_target() or self.get_url(".index_view"))
        return super().edit_view()

    @pass_context
    def list_rows_html(self, context, rows, columns, actions, row_actions):
        """The list's rows, written here in one pass: the markup that Flask-Admin's list.html
        with our list_row block (templates/admin/memberdesk_list.html) writes, without a
        template context, a block and an escape call per row and per cell (issue 22)."""
        checkbox = None
        if actions:
            title = escape(context.resolve("_gettext")("Select record"))
            checkbox = ('\n  <td>\n    <input type="checkbox" name="rowid" '
                        'class="action-checkbox" value="{}" title="%s" />\n  </td>\n  ' % title)
        show_actions = self.column_display_actions
        renderers = [_row_renderer(context, action) for action in row_actions]
        cells = [(name, '<td class="col-%s">' % escape(name)) for name, _label in columns]
        out = []
        with one_instant():  # a subscription's state once per row, not once per button
            self._rows_html(context, rows, out, checkbox, cells, show_actions, renderers)
        return Markup("".join(out))

    def _rows_html(self, context, rows, out, checkbox, cells, show_actions, renderers):
        get_value, get_pk = self._cell_values(context), self.get_pk_value
        for row in rows:
            out.append("\n        <tr>\n            \n  ")
            pk = get_pk(row)
            if checkbox:
                out.append(checkbox.format(escape(pk)))
            out.append("\n  ")
            for name, td in cells:
                out += (td, escape(get_value(context, row, name)), "</td>\n  ")
            out.append("\n  \n  ")
            if show_actions:
                out.append('\n  <td class="list-buttons-column">\n    ')
                out += [escape(render(pk, row)) for render in renderers]
                out.append("\n  </td>\n  ")
            out.append("\n\n        </tr>\n        ")

    def _cell_values(self, context):
        """(context, row, column) -> the cell's value, as Flask-Admin's get_list_value gives
        it: the column's formatter or the attribute, its choices, then the first type
        formatter its type is an instance of, looked up once per type and page rather than
        tried one by one for every cell (issue 22). A view overriding those keeps its own."""
        own = type(self)
        if (own.get_list_value is not ModelView.get_list_value
                or own._get_list_value is not ModelView._get_list_value
                or own._get_field_value is not ModelView._get_field_value):
            return self.get_list_value
        formatters, choices = self.column_formatters, self._column_choices_map
        type_formatters = list(self.column_type_formatters.items())
        by_type = {}

        def value_of(context, row, name):
            fmt = formatters.get(name)
            value = fmt(self, context, row, name) if fmt is not None else rec_getattr(row, name)
            choice = choices.get(name)
            if choice:
                return choice.get(value) or value
            kind = type(value)
            type_fmt = by_type.get(kind, _UNSEEN)
            if type_fmt is _UNSEEN:
                type_fmt = by_type[kind] = next(
                    (f for typeobj, f in type_formatters if isinstance(value, typeobj)), None)
            if type_fmt is None:
                return value
            try:
                return type_fmt(self, value, name)
            except TypeError:  # a two-argument formatter: Flask-Admin's own path warns
                return self._get_list_value(context, row, name, formatters,
                                            self.column_type_formatters)
        return value_of

    def get_one(self, id):
        """The record, or None for an id that is not a number fitting the key (no DB error)."""
        pk = self.model.__mapper__.primary_key[0]
        if not is_db_id(id, pk.type):
            return None
        return super().get_one(id)

    def _get_list_extra_args(self):
        """The list's URL arguments; a page that cannot exist is refused with a message."""
        args = super()._get_list_extra_args()
        page_number(args.page, self.get_safe_page_size(args.page_size) or self.page_size)
        return args

    def _get_filter_groups(self):
        """Flask-Admin's filter groups (their options taken once, when the view was set up),
        kept as one JsonOnce so that their JSON is written once, not on every page."""
        groups = self._filter_groups
        kept = self.__dict__.get("_md_filter_groups")
        if kept is None or kept[0] is not groups:  # Flask-Admin refreshed its filters
            value = super()._get_filter_groups()
            kept = self.__dict__["_md_filter_groups"] = (groups, value and JsonOnce(value))
        return kept[1]

    def _get_list_url(self, view_args):
        """Flask-Admin's list address (ModelView._get_list_url), written from one address per
        request with the page, sort column and page size put in: a list page has a dozen
        pager links, a sort link per column and a page-size link per size, which differ only
        there, and url_for cost more than the rest of each link (issue 22). Arguments a
        marker cannot stand for (not whole numbers, a marker found elsewhere) take
        Flask-Admin's way."""
        page, sort = view_args.page or None, view_args.sort
        size = self.get_safe_page_size(view_args.page_size)
        if not all(type(v) is int for v in (page or 0, 0 if sort is None else sort, size)):
            return super()._get_list_url(view_args)
        cache = g.setdefault("_md_list_urls", {})
        key = (self.endpoint, page is None, sort is None, bool(view_args.sort_desc),
               view_args.search, repr(view_args.filters), repr(view_args.extra_args))
        template = cache.get(key)
        if template is None:
            template = cache[key] = site_cached(
                ("list", *key),
                lambda: self._list_url_template(view_args, page, sort))
        if not template:
            return super()._get_list_url(view_args)
        values = {_PAGE_MARK: page, _SORT_MARK: sort, _SIZE_MARK: size}
        parts, marks = template
        out = [parts[0]]
        for mark, part in zip(marks, parts[1:]):
            out += (str(values[mark]), part)
        return "".join(out)

    def _list_url_template(self, view_args, page, sort):
        """(text between the markers, the markers in order) of the list address with markers
        for page, sort and page size (ModelView._get_list_url's arguments, in its order);
        () when a marker is not found exactly once."""
        kwargs = dict(page=None if page is None else _PAGE_MARK,
                      sort=None if sort is None else _SORT_MARK,
                      desc=1 if view_args.sort_desc else None, search=view_args.search)
        kwargs.update(view_args.extra_args)
        kwargs["page_size"] = _SIZE_MARK
        kwargs.update(self._get_filters(view_args.filters))
        url = self.get_url(".index_view", **kwargs)
        marks = [m for m in (_PAGE_MARK, _SORT_MARK, _SIZE_MARK) if kwargs.get(
            {_PAGE_MARK: "page", _SORT_MARK: "sort", _SIZE_MARK: "page_size"}[m]) == m]
        if len(marks) != (page is not None) + (sort is not None) + 1 or any(
                url.count(str(m)) != 1 for m in marks):
            return ()
        marks.sort(key=lambda m: url.index(str(m)))
        parts = re.split("|".join(str(m) for m in marks), url)
        return parts, marks

    def get_save_return_url(self, model, is_created=False):
        """After saving: the `url` argument when it is a path on this site, else the list."""
        return get_redirect_target() or self.get_url(".index_view")

    def _apply_sorting(self, query, joins, sort_column, sort_desc):
        """Add the primary key as tie-breaker so that pages never repeat or skip rows."""
        query, joins = super()._apply_sorting(query, joins, sort_column, sort_desc)
        if sort_column is None:
            default = list(self._get_default_order())
            sort_desc = bool(default and default[0][2])
        return query.order_by(desc(self.model.id) if sort_desc else self.model.id), joins
