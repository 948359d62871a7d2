"""MNIST: IDX files (idx), finding and loading them (mnist), the split (splits)."""
