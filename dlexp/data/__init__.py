"""MNIST: IDX files (:mod:`.idx`), finding and loading them (:mod:`.mnist`), the split
(:mod:`.splits`)."""
