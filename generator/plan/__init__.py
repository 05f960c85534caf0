"""plan: specs -> the edits eventgen would make (nothing read but the user code it must know, nothing written)."""
