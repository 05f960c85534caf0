from fastapi import APIRouter, Depends, HTTPException

from open_webui.models.features import Features
from open_webui.utils.auth import get_verified_user

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
    return feature
