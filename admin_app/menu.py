"""The panel's main menu written in Python: the markup of Flask-Admin's `layout.menu()` macro
(bootstrap4/admin/layout.html), byte for byte, for the menus this panel has (views and
categories of views, no icons, extra classes, targets or nested categories). Each item is
asked the same questions as the macro asks (is_accessible, is_visible, is_active, get_url);
only the template machinery around them is gone: the macro cost about 0.4 ms of every page,
in Jinja calls (issue 22). A menu with anything else is left to the macro (None here)."""
from markupsafe import Markup, escape

_NO_ICON = "\n    \n  "  # what menu_icon() writes for an item without an icon


def _plain(item):
    """Whether the item uses none of the features written only by the macro."""
    return (not item.get_icon_type() and not getattr(item, "target", None)
            and not getattr(item, "class_name", None) and not item.get_class_name())


def _view(item, active):
    url, name = escape(item.get_url()), escape(item.name)
    li = '<li class="active">' if active else "<li>"
    return (f'\n          {li}\n      <a class="nav-link " href="{url}">\n        {_NO_ICON}'
            f'{name}</a>\n      </li>')


def _child(item, active):
    url, name = escape(item.get_url()), escape(item.name)
    if active:
        link = (f'\n                      <a class="dropdown-item active  " href="{url}">'
                f'\n                        {_NO_ICON}{name}</a>\n                    ')
    else:
        link = (f'\n                      <a class="dropdown-item " href="{url}">'
                f'\n                        {_NO_ICON}{name}</a>')
    return f"\n                \n                \n                  <li>{link}\n                  </li>"


def _category(item, admin_view, out):
    children = item.get_children()
    if not children:
        return True
    if not _plain(item) or any(c.is_category() or not _plain(c) for c in children):
        return False
    active = "active " if item.is_active(admin_view) else ""
    out.append(f'\n        \n\n        <!-- just enhance the readability -->\n        '
               f'<li class="{active}dropdown">\n\n          <a class="dropdown-toggle nav-link" '
               f'data-toggle="dropdown" href="javascript:void(0)">\n            '
               f'<!-- show icon -->\n            \n            {_NO_ICON}{escape(item.name)}'
               f'<i class="glyphicon glyphicon-chevron-down small"></i></a>\n          '
               f'<ul class="dropdown-menu">')
    out.extend(_child(child, child.is_active(admin_view)) for child in children)
    out.append("\n          </ul>\n        </li>\n      ")
    return True


def main_menu(admin_view):
    """What `layout.menu()` writes for `admin_view`'s admin, or None: let the macro do it."""
    out = ["\n  \n  "]
    for item in admin_view.admin.menu():
        if item.is_category():
            if not _category(item, admin_view, out):
                return None
        elif item.is_accessible() and item.is_visible():
            if not _plain(item):
                return None
            out.append(_view(item, item.is_active(admin_view)))
    out.append("\n")
    return Markup("".join(out))
