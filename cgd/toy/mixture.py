"""2D Gaussian mixtures: the toy world whose noised densities are exact.

File format (``toy_data/*.json``, also what users upload)::

    {"name": str, "means": [[x, y], ...], "covs": [[[a, b], [b, c]], ...],
     "weights": [...], "labels": [...]}

``labels[k]`` is the class of component k; classes are 0..C-1, each used at least once,
and several components may share a class.

Why exact: if x_0 ~ sum_k w_k N(m_k, C_k) then
x_t = sqrt(alpha_bar) x_0 + sqrt(1 - alpha_bar) eps ~ sum_k w_k N(sqrt(alpha_bar) m_k, alpha_bar C_k + (1 - alpha_bar) I),
so p_t(x), its score, p_t(y | x) and the class-conditional score are all closed-form.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch

from cgd.errors import InputError

__all__ = ["Mixture", "PRESET_DIR", "presets", "load_mixture", "MAX_COMPONENTS", "MAX_FILE_BYTES"]

PRESET_DIR = Path(__file__).resolve().parents[2] / "toy_data"
MAX_COMPONENTS = 64
MAX_CLASSES = 16
MAX_FILE_BYTES = 64 * 1024
MAX_ABS = 1e3
LOG_2PI = math.log(2 * math.pi)


@dataclass(frozen=True, eq=False)
class Mixture:
    """A validated 2D Gaussian mixture (all tensors float64).

    means: [K, 2]; covs: [K, 2, 2] symmetric positive definite; weights: [K] summing to 1;
    labels: [K] long in 0..C-1.
    """

    name: str
    means: torch.Tensor
    covs: torch.Tensor
    weights: torch.Tensor
    labels: torch.Tensor

    # -- construction and validation ------------------------------------
    @classmethod
    def from_dict(cls, d) -> "Mixture":
        if not isinstance(d, dict):
            raise InputError("a mixture must be a JSON object with keys name, means, covs, weights, labels")
        missing = [k for k in ("means", "covs", "weights", "labels") if k not in d]
        if missing:
            raise InputError(f"mixture is missing key(s): {', '.join(missing)}")
        name = str(d.get("name", "custom"))[:80]
        means = _numbers(d["means"], "means", 2)
        covs = _numbers(d["covs"], "covs", 3)
        weights = _numbers(d["weights"], "weights", 1)
        labels_f = _numbers(d["labels"], "labels", 1)
        K = means.shape[0]
        if not 1 <= K <= MAX_COMPONENTS:
            raise InputError(f"a mixture needs 1 to {MAX_COMPONENTS} components, got {K}")
        if means.shape != (K, 2):
            raise InputError(f"means must be a list of [x, y] pairs, got shape {list(means.shape)}")
        if covs.shape != (K, 2, 2):
            raise InputError(f"covs must hold {K} 2x2 matrices, got shape {list(covs.shape)}")
        if weights.shape != (K,) or labels_f.shape != (K,):
            raise InputError(f"weights and labels must each have {K} entries (one per component)")
        if bool((means.abs() > MAX_ABS).any()) or bool((covs.abs() > MAX_ABS).any()):
            raise InputError(f"means and covariances must lie within +-{MAX_ABS:g}")
        if not bool(torch.allclose(covs, covs.transpose(1, 2), atol=1e-9)):
            raise InputError("every covariance must be symmetric")
        eig = torch.linalg.eigvalsh(covs)
        if not bool((eig > 1e-6).all()):
            k = int((eig <= 1e-6).any(dim=1).nonzero()[0])
            raise InputError(f"covariance {k} is not positive definite (eigenvalues {eig[k].tolist()})")
        if bool((weights <= 0).any()):
            raise InputError("weights must be positive")
        if labels_f.numel() and not bool((labels_f == labels_f.round()).all()):
            raise InputError("labels must be whole numbers")
        labels = labels_f.long()
        C = int(labels.max()) + 1
        if bool((labels < 0).any()) or C > MAX_CLASSES:
            raise InputError(f"labels must lie in 0..{MAX_CLASSES - 1}")
        unused = sorted(set(range(C)) - set(labels.tolist()))
        if unused:
            raise InputError(f"classes must be numbered 0..C-1 with each used; unused: {unused}")
        return cls(name, means, covs, weights / weights.sum(), labels)

    @classmethod
    def from_json(cls, text) -> "Mixture":
        if isinstance(text, bytes):
            if len(text) > MAX_FILE_BYTES:
                raise InputError(f"mixture file is larger than {MAX_FILE_BYTES // 1024} KiB")
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError("mixture file is not UTF-8 text") from None
        if len(text) > MAX_FILE_BYTES:
            raise InputError(f"mixture file is larger than {MAX_FILE_BYTES // 1024} KiB")
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"mixture file is not valid JSON: {e.msg} (line {e.lineno})") from None
        return cls.from_dict(d)

    def to_dict(self) -> dict:
        return {"name": self.name, "means": self.means.tolist(), "covs": self.covs.tolist(),
                "weights": self.weights.tolist(), "labels": self.labels.tolist()}

    # -- basic facts -----------------------------------------------------
    def inflated(self, factor: float) -> "Mixture":
        """The same mixture with every covariance multiplied by ``factor`` (a too-broad model of it)."""
        if not (math.isfinite(factor) and factor > 0):
            raise InputError(f"the inflation factor must be a positive number, got {factor}")
        return Mixture(f"{self.name} (covariances x{factor:g})", self.means, self.covs * factor, self.weights,
                       self.labels)

    @property
    def num_components(self) -> int:
        return int(self.means.shape[0])

    @functools.cached_property
    def num_classes(self) -> int:
        """Number of classes (labels are 0..C-1); read once per mixture (the 2D page asks on every rerun)."""
        return int(self.labels.max()) + 1

    @property
    def class_weights(self) -> torch.Tensor:
        """p(y): [C] float64."""
        return torch.zeros(self.num_classes, dtype=torch.float64).index_add_(0, self.labels, self.weights)

    def sample(self, n: int, generator: torch.Generator | None = None, y: int | None = None):
        """Draw n points of p(x) (or p(x | y)); returns ``(x [n, 2] float64, labels [n] long)``."""
        w = self.weights.clone()
        if y is not None:
            w = w * (self.labels == y)
        k = torch.multinomial(w / w.sum(), n, replacement=True, generator=generator)
        L = torch.linalg.cholesky(self.covs)
        z = torch.randn(n, 2, generator=generator, dtype=torch.float64)
        x = self.means[k] + (L[k] @ z.unsqueeze(-1)).squeeze(-1)
        return x, self.labels[k]

    # -- exact noised densities -----------------------------------------
    def noised(self, alpha_bar):
        """Means ``[..., K, 2]`` and covariances ``[..., K, 2, 2]`` of p_t for alpha_bar (scalar or [B])."""
        ab = torch.as_tensor(alpha_bar, dtype=torch.float64)
        sab = ab.sqrt()[..., None, None]
        means = sab * self.means
        eye = torch.eye(2, dtype=torch.float64)
        covs = ab[..., None, None, None] * self.covs + (1.0 - ab)[..., None, None, None] * eye
        return means, covs

    def component_log_prob(self, x: torch.Tensor, alpha_bar) -> torch.Tensor:
        """log w_k + log N(x; noised mean_k, noised cov_k): ``[B, K]`` in x's dtype.

        x: [B, 2]; alpha_bar: scalar or [B]. Closed-form 2x2 inverse and determinant.
        """
        means, covs = self.noised(alpha_bar)
        means, covs = means.to(x), covs.to(x)
        d = x[:, None, :] - means  # [B, K, 2]
        a, b, c = covs[..., 0, 0], covs[..., 0, 1], covs[..., 1, 1]
        det = a * c - b * b
        quad = (c * d[..., 0] ** 2 - 2 * b * d[..., 0] * d[..., 1] + a * d[..., 1] ** 2) / det
        return torch.log(self.weights.to(x)) - 0.5 * quad - 0.5 * torch.log(det) - LOG_2PI

    def log_prob(self, x, alpha_bar=1.0, y: int | None = None) -> torch.Tensor:
        """log p_t(x) or log p_t(x | y): ``[B]``."""
        lp = self.component_log_prob(x, alpha_bar)
        if y is not None:
            lp = lp.masked_fill(self.labels.to(x.device) != y, -math.inf)
            return torch.logsumexp(lp, 1) - torch.log(self.class_weights[y]).to(x)
        return torch.logsumexp(lp, 1)

    def class_log_joint(self, x, alpha_bar) -> torch.Tensor:
        """log p_t(x, y) for every class: ``[B, C]``; log-softmax of it is log p_t(y | x)."""
        lp = self.component_log_prob(x, alpha_bar)
        lp_rows = lp.T.contiguous()  # [K, B]: reductions over the few components run along rows
        labels = self.labels.tolist()
        out = []
        for y in range(self.num_classes):  # log sum_k exp over class y's own components
            rows = lp_rows[[k for k, c in enumerate(labels) if c == y]]
            top = rows.amax(0)
            out.append(top + torch.log(torch.exp(rows - top).sum(0)))
        return torch.stack(out, dim=1)

    def score(self, x, alpha_bar, y: int | torch.Tensor | None = None) -> torch.Tensor:
        """Exact grad_x log p_t(x) (or log p_t(x | y) per sample): ``[B, 2]``.

        y: None, an int, or ``[B] long`` where the value C (null label) means unconditional.
        """
        return self.scores_from_terms(x, self.component_terms(alpha_bar), y)[1 if y is not None else 0]

    def component_terms(self, alpha_bar) -> dict:
        """What the scores need of each noised component, for alpha_bar (scalar, [B] or a table [T]).

        Returns float64 tensors of shape ``[..., K]``: the noised mean (m0, m1), the inverse
        covariance entries (ia, ib, ic: Sigma_k^-1 = [[ia, ib], [ib, ic]]) and
        const = log w_k - log det(2 pi Sigma_k) / 2. Precomputing them over a whole schedule
        leaves only [K, B] arithmetic per step.
        """
        means, covs = self.noised(alpha_bar)
        a, b, c = covs[..., 0, 0], covs[..., 0, 1], covs[..., 1, 1]
        det = a * c - b * b
        const = torch.log(self.weights) - 0.5 * torch.log(det) - LOG_2PI
        return {"m0": means[..., 0], "m1": means[..., 1], "ia": c / det, "ib": -b / det, "ic": a / det,
                "const": const}

    def scores_from_terms(self, x, terms: dict, y=None, *, uncond=None):
        """(unconditional score, class-conditional score or None) ``[B, 2]`` from :meth:`component_terms`.

        Terms of shape [K] (one alpha_bar for the batch) or [B, K]. Works in a [K, B] layout, so
        every sum and softmax over the few components runs along contiguous rows of B.
        ``uncond``: the unconditional score at the same (x, terms) when already known.
        """
        def rows(v):  # [K] -> [K, 1]; [B, K] -> [K, B]; in x's dtype
            v = v.to(x)
            return v[:, None] if v.ndim == 1 else v.T

        m0, m1, ia, ib, ic, const = (rows(terms[k]) for k in ("m0", "m1", "ia", "ib", "ic", "const"))
        d0, d1 = x[:, 0] - m0, x[:, 1] - m1  # [K, B]
        sx, sy = ia * d0 + ib * d1, ib * d0 + ic * d1  # Sigma_k^{-1} (x - m_k)
        lp = const - 0.5 * (d0 * sx + d1 * sy)  # log w_k N(x; m_k, Sigma_k), [K, B]

        def combine(keep=None):  # -sum_k r_k Sigma_k^{-1} (x - m_k), r = responsibilities (softmax over k)
            top = (lp if keep is None else lp.masked_fill(~keep, -math.inf)).amax(0, keepdim=True)
            # exp of far-negative numbers hits slow subnormal paths: floor at -80 (weight < 2e-35)
            r = torch.exp((lp - top).clamp_min_(-80.0))
            if keep is not None:
                r = r * keep
            r = r * r.sum(0, keepdim=True).reciprocal_()
            return -torch.stack([(r * sx).sum(0), (r * sy).sum(0)], dim=1)

        if uncond is None:
            uncond = combine()
        if y is None:
            return uncond, None
        y = torch.as_tensor(y, device=x.device).reshape(-1)
        labels = self.labels.to(x.device)[:, None]
        if y.numel() == 1 or y.stride(0) == 0 or _all_equal(y):  # one label for the batch: a [K, 1] mask
            y0 = int(y[0])
            if y0 == self.num_classes:
                return uncond, uncond
            keep = labels == y0
        else:
            keep = (labels == y[None]) | (y[None] == self.num_classes)  # [K, B]
        return uncond, combine(keep)


def _all_equal(v: torch.Tensor) -> bool:
    lo, hi = torch.aminmax(v)
    return bool(lo == hi)


def _numbers(value, what: str, ndim: int) -> torch.Tensor:
    try:
        t = torch.tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise InputError(f"{what} must be a (nested) list of numbers of equal lengths") from None
    if t.ndim != ndim:
        raise InputError(f"{what} must be nested {ndim} deep, got {t.ndim}")
    if not bool(torch.isfinite(t).all()):
        raise InputError(f"{what} must hold finite numbers only")
    return t


def presets() -> dict:
    """Preset name -> path of every mixture in ``toy_data/``."""
    return {p.stem: p for p in sorted(PRESET_DIR.glob("*.json"))}


def load_mixture(name_or_path: str | Path) -> Mixture:
    """Load a preset by name (``toy_data/NAME.json``) or a mixture JSON file by path."""
    p = presets().get(str(name_or_path))
    if p is None:
        p = Path(name_or_path)
        if not p.is_file():
            raise InputError(f"no preset or file named {str(name_or_path)!r}; presets: {', '.join(presets())}")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read {p}: {e.strerror}") from None
    return Mixture.from_json(data)
