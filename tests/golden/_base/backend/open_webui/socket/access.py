def can_read_feature(user: dict, feature_id: str) -> bool:
    return feature_id != "secret"
