"""Settings read from environment variables (names as in Open WebUI)."""

import os


def _origins(raw: str) -> list[str]:
    origins = [origin.strip() for origin in raw.split(",") if origin.strip()]
    if "*" in origins:
        # Socket.IO authenticates with a token in the handshake, so a wildcard
        # origin would let any site drive a logged-in user's socket.
        raise ValueError("CORS_ALLOW_ORIGINS must list explicit origins, not '*'")
    return origins


WEBSOCKET_MANAGER = os.environ.get("WEBSOCKET_MANAGER", "").strip().lower()
WEBSOCKET_REDIS_URL = os.environ.get("WEBSOCKET_REDIS_URL", "redis://127.0.0.1:6379/0")
CORS_ALLOW_ORIGINS = _origins(
    os.environ.get("CORS_ALLOW_ORIGINS", "http://localhost:5173")
)
WEBUI_SECRET_KEY = os.environ.get("WEBUI_SECRET_KEY", "openwebui-mini-dev-secret")
