"""cgd: the Classifier Guidance Lab engine.

A small, readable guided-diffusion engine: noise schedules (`cgd.schedule`),
samplers (`cgd.samplers`), guidance wrappers (`cgd.guidance`) and a 2D
Gaussian-mixture world whose noised densities are exact (`cgd.toy`).
This package never imports streamlit.
"""

from cgd.errors import CGDError, InputError

__all__ = ["CGDError", "InputError"]
__version__ = "0.1.0"
