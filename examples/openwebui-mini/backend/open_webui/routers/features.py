from fastapi import APIRouter, Depends, HTTPException, status

from open_webui.models.features import FeatureForm, FeatureModel, Features
from open_webui.socket.access import can_edit_feature, can_read_feature
from open_webui.utils.auth import get_verified_user

# eventgen:begin imports sha=ff7a12d60164 -- generated from events/*.yaml; edit the spec, then run eventgen generate
# isort: off
from open_webui.socket.main import notify_feature_update
# isort: on
# eventgen:end imports

router = APIRouter()


@router.get("/{feature_id}", response_model=FeatureModel)
async def get_feature_by_id(feature_id: str, user=Depends(get_verified_user)):
    feature = Features.get_feature_by_id(feature_id)
    if feature is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Not found")
    if not can_read_feature(user.model_dump(), feature_id):
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Forbidden")
    return feature


@router.put("/{feature_id}", response_model=FeatureModel)
async def update_feature(
    feature_id: str,
    form_data: FeatureForm,
    user=Depends(get_verified_user),
):
    if Features.get_feature_by_id(feature_id) is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Not found")
    if not await can_edit_feature(user.model_dump(), feature_id):
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Forbidden")

    feature = Features.update_feature(feature_id, form_data)
    # eventgen:begin feature/feature:updated@update_feature sha=37ddd112566b -- generated from events/feature.yaml; edit the spec, then run eventgen generate
    await notify_feature_update(feature_id=feature_id, data=feature.model_dump())
    # eventgen:end feature/feature:updated@update_feature
    return feature
