"""Demo tokens: `<user_id>.<hex HMAC-SHA256 of user_id>` signed with WEBUI_SECRET_KEY.

Deterministic on purpose, so tests and the README can mint tokens offline.
"""

import hashlib
import hmac
from typing import Any

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from open_webui.env import WEBUI_SECRET_KEY
from open_webui.models.users import UserModel, Users

bearer_security = HTTPBearer(auto_error=False)


def _sign(user_id: str) -> str:
    key = WEBUI_SECRET_KEY.encode()
    return hmac.new(key, user_id.encode(), hashlib.sha256).hexdigest()


def create_token(user_id: str) -> str:
    return f"{user_id}.{_sign(user_id)}"


def decode_token(token: Any) -> dict[str, Any] | None:
    """Return `{"id": user_id}` for a valid token, else None (never raises)."""
    if not isinstance(token, str):
        return None
    user_id, sep, mac = token.rpartition(".")
    if not sep or not user_id:
        return None
    if not hmac.compare_digest(mac, _sign(user_id)):
        return None
    return {"id": user_id}


def get_verified_user(
    auth: HTTPAuthorizationCredentials | None = Depends(bearer_security),
) -> UserModel:
    data = decode_token(auth.credentials) if auth is not None else None
    user = Users.get_user_by_id(data["id"]) if data is not None else None
    if user is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Not authenticated",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user
