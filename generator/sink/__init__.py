"""sink: what a run does with its changes: write them, print them as a diff, or check them."""
