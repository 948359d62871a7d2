"""Training: the loop, its callbacks, run directories and the one-run runner."""
