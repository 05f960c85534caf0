from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from open_webui.env import CORS_ALLOW_ORIGINS
from open_webui.routers import features
from open_webui.socket.main import app as socket_app

app = FastAPI(title="openwebui-mini")

app.add_middleware(
    CORSMiddleware,
    allow_origins=CORS_ALLOW_ORIGINS,
    allow_credentials=True,
    allow_methods=["*"],
    allow_headers=["*"],
)

app.mount("/ws", socket_app)

app.include_router(features.router, prefix="/api/v1/features", tags=["features"])


@app.get("/health")
async def healthcheck() -> dict[str, bool]:
    return {"status": True}
