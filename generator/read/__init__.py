"""What eventgen reads of the user's code, with the stdlib parser (no libcst) and outside its own
regions: names a module binds, events its code registers, rooms it enters by hand, the session pool."""
