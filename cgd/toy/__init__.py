"""The 2D toy world: Gaussian mixtures, their exact models and small learned ones."""

from cgd.toy.exact import ExactClassifier, ExactEps
from cgd.toy.mixture import Mixture, load_mixture, presets

__all__ = ["Mixture", "load_mixture", "presets", "ExactEps", "ExactClassifier"]
