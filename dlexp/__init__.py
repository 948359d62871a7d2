"""dlexp — experiments on the techniques of training neural networks, in NumPy."""

__version__ = "0.1.0"
