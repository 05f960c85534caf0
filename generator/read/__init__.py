"""What eventgen reads of the user's code (the stdlib `ast`, no libcst): facts init and generate rely on."""
