"""One colour and one name per method, for every figure the project draws (pages and docs alike).

No plotting library here: the app's plotly figures (``ui.figures``) and the report's matplotlib
figures (``cgd.report``) both read these tables.
"""

from cgd.methods import REGISTRY, cg_on

__all__ = ["METHOD_COLORS", "METHOD_LABELS", "SAMPLER_COLORS"]

# none of them is the 2D page's density blue (#1f77b4) or red (#d62728); each method's entry in the registry
# (cgd.methods) holds its colour and its label
METHOD_COLORS = {m.name: m.color for m in REGISTRY}
METHOD_LABELS = {m.name: m.label for m in REGISTRY}

# the ways of sampling p(x) p(y|x)^k that the 2D page sets side by side (cgd.toy.oracle.compare_tilted); the guided
# sampler there is CG-DDPM and keeps its colour; none of the others is a method's colour or a density's
SAMPLER_COLORS = {"sampler": METHOD_COLORS[cg_on("ddpm")], "corrector": "#bcbd22", "smc-exact": "#1b9e77",
                  "smc-fk": "#a6761d", "rejection": "#222222"}
