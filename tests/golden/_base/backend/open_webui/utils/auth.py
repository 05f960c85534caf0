USERS = {
    "alice-token": {"id": "alice", "name": "Alice", "role": "user"},
    "bob-token": {"id": "bob", "name": "Bob", "role": "user"},
    "carol-token": {"id": "carol", "name": "Carol", "role": "admin"},
}


def decode_token(token):
    return USERS.get(token)


def get_verified_user():
    return USERS["alice-token"]
