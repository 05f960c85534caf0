from fastapi import APIRouter, Depends, HTTPException

from open_webui.models.features import Features
from open_webui.utils.auth import get_verified_user

# eventgen:begin imports sha=ff7a12d60164 -- generated from events/*.yaml; edit the spec, then run eventgen generate
# isort: off
from open_webui.socket.main import notify_feature_update
# isort: on
# eventgen:end imports

router = APIRouter()


@router.get("/{feature_id}")
async def get_feature_by_id(feature_id: str, user=Depends(get_verified_user)):
    feature = Features.get_feature_by_id(feature_id)
    if feature is None:
        raise HTTPException(status_code=404, detail="Not found")
    return feature


@router.put("/{feature_id}")
async def update_feature(feature_id: str, form_data: dict, user=Depends(get_verified_user)):
    if Features.get_feature_by_id(feature_id) is None:
        raise HTTPException(status_code=404, detail="Not found")
    feature = Features.update_feature(feature_id, form_data)
    # eventgen:begin feature/feature:updated@update_feature sha=c010cdaf3a28 -- generated from events/feature.yaml; edit the spec, then run eventgen generate
    await notify_feature_update(feature_id=feature_id, data=feature)
    # eventgen:end feature/feature:updated@update_feature
    return feature
