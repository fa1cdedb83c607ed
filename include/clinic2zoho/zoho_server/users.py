"""Zoho's Users API: reading one user, the `type` filters of GET /users, adding a user (an
invitation), the roles a new user is given, and the admin route that plays the invitee accepting.

Sources:
- GET /users `type` values and their meaning: https://www.zoho.com/crm/developer/docs/api/v8/get-users.html
  (AllUsers, ActiveUsers, DeactiveUsers, ConfirmedUsers, NotConfirmedUsers, DeletedUsers,
  ActiveConfirmedUsers, AdminUsers, ActiveConfirmedAdmins, CurrentUser) and users.json.
- POST /users: https://www.zoho.com/crm/developer/docs/api/v8/add-user.html and users.json
  (one user per request; first_name, email, role and profile mandatory; 201
  `{"users": [{"code": "SUCCESS", "details": {"id"}, "message": "User added", "status": "success"}]}`;
  errors DUPLICATE_DATA, LICENSE_LIMIT_EXCEEDED, MANDATORY_NOT_FOUND, INVALID_DATA, wrapped in `users`).
- An invited user: `status` "active" with `confirm` false until the invitation is accepted
  (Zoho's user JSON has both keys; its older getUsers sample lists users `status="active"
  confirm="false"`, and the type list has ActiveConfirmedUsers apart from ActiveUsers, so an
  unconfirmed user is active but not confirmed). Whether such a user may own records is
  *unverified*: refused by default (setting `unconfirmed_users_own_records`, records.user_ok).
- GET /settings/roles: roles.json (`{"roles": [{id, name, display_label, reporting_to, admin_user, ...}]}`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from . import metadata, profiles
from .http import ApiError, jresp
from .params import page_of
from .store import ID_BASE

if TYPE_CHECKING:  # pragma: no cover
    from .app import ZohoServer

CEO_ROLE_ID, MANAGER_ROLE_ID = str(ID_BASE - 3), str(ID_BASE - 5)
# The ids metadata.user_json gives every seeded user: the org's profiles (profiles.py) and two roles.
PROFILES = {pid: name for pid, name, _ in profiles.PROFILES}
ROLES = [
    # roles.json types reporting_to and forecast_manager as objects: the top role leaves them out
    {"id": CEO_ROLE_ID, "name": "CEO", "display_label": "CEO", "share_with_peers": True, "description": "Users with this role have access to the data owned by all other users.",
     "admin_user": True},
    {"id": MANAGER_ROLE_ID, "name": "Manager", "display_label": "Manager",
     "reporting_to": {"id": CEO_ROLE_ID, "name": "CEO"}, "share_with_peers": False,
     "description": "Users belonging to this role cannot see data for admin users.", "admin_user": False},
]
MANDATORY = ("first_name", "email", "role", "profile")


def confirmed(user: dict[str, Any]) -> bool:
    return user.get("confirm", True) is not False


def _admin(user: dict[str, Any]) -> bool:
    return (user.get("profile") or {}).get("name") == "Administrator"


# type -> which users it lists (get-users.html)
TYPES = {
    "AllUsers": lambda u: u["status"] != "deleted",
    "ActiveUsers": lambda u: u["status"] == "active",
    "DeactiveUsers": lambda u: u["status"] not in ("active", "deleted"),
    "ConfirmedUsers": lambda u: confirmed(u),
    "NotConfirmedUsers": lambda u: not confirmed(u),
    "DeletedUsers": lambda u: u["status"] == "deleted",
    "ActiveConfirmedUsers": lambda u: u["status"] == "active" and confirmed(u),
    "AdminUsers": lambda u: _admin(u),
    "ActiveConfirmedAdmins": lambda u: _admin(u) and u["status"] == "active" and confirmed(u),
}


class UsersApi:
    def __init__(self, server: ZohoServer) -> None:
        self.server = server

    @property
    def store(self):
        return self.server.store

    async def list(self, request: Request) -> Response:

        s = self.server
        await s.guard(request, "users")
        s.commit()
        kind = request.query_params.get("type", "AllUsers")
        if kind == "CurrentUser":
            users = [self.store.current_user()]
        elif kind in TYPES:
            users = [u for u in self.store.users if TYPES[kind](u)]
        else:
            raise ApiError(400, "INVALID_DATA", "invalid data", {"param_name": "type"})
        page, per_page = s.paging(request)
        chunk, info = page_of(users, page, per_page)
        if not chunk:
            return jresp(None, 204)
        return jresp({"users": chunk, "info": info}, headers=s.credit_headers())

    async def get(self, request: Request) -> Response:
        await self.server.guard(request, "users.get")
        self.server.commit()
        user = self.store.users_by_id.get(request.path_params["user_id"])
        if user is None:
            return jresp(None, 204)
        return jresp({"users": [user]}, headers=self.server.credit_headers())

    async def create(self, request: Request) -> Response:

        s = self.server
        await s.guard(request, "users.create")
        body = await s.body_json(request)
        items = body.get("users") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise ApiError(400, "INVALID_DATA", "invalid data", {"api_name": "users", "expected_data_type": "jsonarray"})
        if len(items) > 1:  # "You can add only one user per POST request" (add-user.html); the code is *unverified*
            raise ApiError(400, "LIMIT_EXCEEDED", "only one user can be added per request", {"limit": 1}, wrap="users")
        item = items[0]
        if not isinstance(item, dict):
            raise ApiError(400, "INVALID_DATA", "invalid data", {"json_path": "$.users[0]", "expected_data_type": "jsonobject"},
                           wrap="users")
        for key in MANDATORY:
            if not item.get(key):
                raise ApiError(400, "MANDATORY_NOT_FOUND", "required field not found",
                               {"api_name": key, "json_path": f"$.users[0].{key}"}, wrap="users")
        email = str(item["email"]).strip()
        if "@" not in email or len(email) > 100:
            raise ApiError(400, "INVALID_DATA", "invalid data", {"api_name": "email", "json_path": "$.users[0].email"},
                           wrap="users")
        for key in ("first_name", "last_name"):  # users.json: maxLength 50
            if item.get(key) is not None and len(str(item[key])) > 50:
                raise ApiError(400, "INVALID_DATA", "invalid data",
                               {"api_name": key, "json_path": f"$.users[0].{key}", "maximum_length": 50}, wrap="users")
        role_id, profile_id = _id_of(item["role"]), _id_of(item["profile"])
        role = next((r for r in ROLES if r["id"] == role_id), None)
        if role is None or profile_id not in PROFILES:
            key = "role" if role is None else "profile"
            raise ApiError(400, "INVALID_DATA", "the id given seems to be invalid",
                           {"api_name": key, "json_path": f"$.users[0].{key}"}, wrap="users")
        taken = next((u for u in self.store.users if u["email"].lower() == email.lower() and u["status"] != "deleted"), None)
        if taken is not None:
            raise ApiError(400, "DUPLICATE_DATA", "duplicate data",
                           {"api_name": "email", "json_path": "$.users[0].email", "id": taken["id"]}, wrap="users")
        licensed = s.store.settings.get("user_count")
        active = sum(1 for u in self.store.users if u["status"] == "active")
        if licensed is not None and active >= int(licensed):  # an invited user takes a licence at once
            raise ApiError(400, "LICENSE_LIMIT_EXCEEDED", "license limit exceeded", {"limit": int(licensed)},
                           wrap="users")
        full_name = " ".join(str(item[k]).strip() for k in ("first_name", "last_name") if item.get(k))
        user = metadata.user_json(metadata.user_id_for(email), {"email": email, "full_name": full_name,
                                                                "status": "active"})
        user.update(first_name=str(item["first_name"]).strip(), last_name=(str(item.get("last_name") or "").strip() or None),
                    confirm=False, profile={"name": PROFILES[profile_id], "id": profile_id},
                    role={"name": role["name"], "id": role_id}, type="ActiveUsers")
        self.store.begin()
        self.store.save_users([*self.store.users, user])
        s.commit()
        return jresp({"users": [{"code": "SUCCESS", "details": {"id": user["id"]}, "message": "User added",
                                 "status": "success"}]}, 201, headers=s.credit_headers())

    async def roles(self, request: Request) -> Response:

        await self.server.guard(request, "roles")
        self.server.commit()
        return jresp({"roles": ROLES}, headers=self.server.credit_headers())

    async def admin_accept(self, request: Request) -> Response:
        """The invitee accepts: the user is confirmed and may own records from now on."""

        self.server.admin(request)
        uid = request.path_params["user_id"]
        user = self.store.users_by_id.get(uid)
        if user is None:
            raise ApiError(404, "INVALID_DATA", "no such user", {"id": uid})
        user["confirm"] = True
        self.store.begin()
        self.store.save_users(list(self.store.users))
        self.server.commit()
        return jresp({"users": [user]})


def _id_of(value: Any) -> str:
    """A role or profile given as its id or as {"id": ...} (the SDK sends the object)."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value or "").strip()
