"""Every permission a role grants is checked somewhere on the server (no dead permissions)."""
import re
from pathlib import Path

from models.admin_user import ROLES

ROOT = Path(__file__).resolve().parents[2]
# Granted before its checks land: the admin-users screens are built on another branch.
NOT_YET_CHECKED = {"manage_admins"}


def test_every_granted_permission_is_checked():
    sources = " ".join(path.read_text(encoding="utf-8") for folder in ("actions", "admin_app")
                       for path in (ROOT / folder).rglob("*.py"))
    checked = set(re.findall(r"""(?:require\(\w+, |can\(|permission\s*=\s*)["'](\w+)["']""",
                             sources))
    granted = set().union(*ROLES.values())
    assert granted - NOT_YET_CHECKED <= checked, granted - checked
    assert {"view_audit", "export", "manage_catalog"} <= ROLES["owner"]
    assert "view_audit" in ROLES["finance"] and "view_audit" not in ROLES["support"]
