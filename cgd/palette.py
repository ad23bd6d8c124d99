"""One colour and one name per method, for every figure the project draws (pages and docs alike).

No plotting library here: the app's plotly figures (``ui.figures``) and the report's matplotlib
figures (``cgd.report``) both read these tables.
"""

__all__ = ["METHOD_COLORS", "METHOD_LABELS"]

# none of them is the 2D page's density blue (#1f77b4) or red (#d62728)
METHOD_COLORS = {"uncond": "#7f7f7f", "cond": "#e377c2", "cg-ddpm": "#9467bd", "cg-ddim": "#ff7f0e",
                 "cfg": "#2ca02c", "cond+cg": "#8c564b", "autoguidance": "#17becf"}
METHOD_LABELS = {"uncond": "unconditional", "cond": "conditional", "cg-ddpm": "CG-DDPM (mean shift sΣg)",
                 "cg-ddim": "CG-DDIM (ε form)", "cfg": "CFG (w)", "cond+cg": "conditional + CG",
                 "autoguidance": "autoguidance (w)"}
