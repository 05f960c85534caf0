class Features:
    _items: dict[str, dict] = {"f1": {"id": "f1", "title": "First"}}

    @classmethod
    def get_feature_by_id(cls, feature_id: str) -> dict | None:
        return cls._items.get(feature_id)

    @classmethod
    def update_feature(cls, feature_id: str, form_data: dict) -> dict:
        cls._items[feature_id] = {**cls._items[feature_id], **form_data}
        return cls._items[feature_id]
