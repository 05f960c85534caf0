"""In-memory features store; `reset()` restores the seed data (for tests)."""

import copy
import threading
import time
from typing import Any

from pydantic import BaseModel, Field


class FeatureModel(BaseModel):
    id: str
    name: str
    owner_id: str
    readers: list[str] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)
    updated_at: int = 0


class FeatureForm(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=256)
    data: dict[str, Any] | None = None


_SEED: tuple[FeatureModel, ...] = (
    FeatureModel(
        id="f1",
        name="Feature One",
        owner_id="alice",
        readers=["alice", "bob"],
        data={"status": "draft"},
    ),
    FeatureModel(
        id="f2",
        name="Feature Two",
        owner_id="carol",
        readers=["carol"],
        data={"status": "private"},
    ),
)


class FeaturesTable:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._features: dict[str, FeatureModel] = {}
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._features = {f.id: copy.deepcopy(f) for f in _SEED}

    def get_feature_by_id(self, feature_id: str) -> FeatureModel | None:
        feature = self._features.get(feature_id)
        return feature.model_copy(deep=True) if feature is not None else None

    def update_feature(
        self, feature_id: str, form_data: FeatureForm
    ) -> FeatureModel | None:
        with self._lock:
            feature = self._features.get(feature_id)
            if feature is None:
                return None
            changes: dict[str, Any] = {"updated_at": int(time.time())}
            if form_data.name is not None:
                changes["name"] = form_data.name
            if form_data.data is not None:
                changes["data"] = {**feature.data, **form_data.data}
            feature = feature.model_copy(update=changes, deep=True)
            self._features[feature_id] = feature
            return feature.model_copy(deep=True)


Features = FeaturesTable()


def reset() -> None:
    Features.reset()
