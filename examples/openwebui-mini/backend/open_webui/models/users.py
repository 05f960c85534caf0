"""In-memory users; stands in for Open WebUI's database-backed Users table."""

from typing import Literal

from pydantic import BaseModel


class UserModel(BaseModel):
    id: str
    name: str
    email: str
    role: Literal["user", "admin"] = "user"


_USERS: dict[str, UserModel] = {
    user.id: user
    for user in (
        UserModel(id="alice", name="Alice", email="alice@example.com", role="user"),
        UserModel(id="bob", name="Bob", email="bob@example.com", role="user"),
        UserModel(id="carol", name="Carol", email="carol@example.com", role="admin"),
    )
}


class UsersTable:
    def get_user_by_id(self, id: str) -> UserModel | None:
        user = _USERS.get(id)
        return user.model_copy() if user is not None else None

    def get_users(self) -> list[UserModel]:
        return [user.model_copy() for user in _USERS.values()]


Users = UsersTable()
