"""Speed benchmarks of dlexp against PyTorch eager and a book-style NumPy baseline.

Not part of the test run. Usage (see README, "Speed")::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.run
"""
