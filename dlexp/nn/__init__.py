"""Layers, initialisers and the MLP model, in NumPy."""

from dlexp.nn.init import INITIALIZERS, make_initializer
from dlexp.nn.layers import ACTIVATIONS, DROPOUT_MODES
from dlexp.nn.model import MLP, ModelSpec

__all__ = ["ACTIVATIONS", "DROPOUT_MODES", "INITIALIZERS", "MLP", "ModelSpec", "make_initializer"]
