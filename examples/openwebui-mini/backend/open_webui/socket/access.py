"""Room access checks. `user` is a session dict from SESSION_POOL (id, name, role)."""

from typing import Any

from open_webui.models.features import Features


def can_read_feature(user: dict[str, Any], feature_id: str) -> bool:
    if user.get("role") == "admin":
        return True
    feature = Features.get_feature_by_id(feature_id)
    return feature is not None and user.get("id") in feature.readers


async def can_edit_feature(user: dict[str, Any], feature_id: str) -> bool:
    if user.get("role") == "admin":
        return True
    feature = Features.get_feature_by_id(feature_id)
    return feature is not None and feature.owner_id == user.get("id")
