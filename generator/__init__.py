"""eventgen: generate real-time Socket.IO events for FastAPI + python-socketio + Svelte apps."""

__version__ = "0.1.0"
