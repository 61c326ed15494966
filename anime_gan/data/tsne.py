"""Exact t-SNE in NumPy (van der Maaten and Hinton, 2008), for the paper's Fig. 2 map.

The paper maps 1,500 Illustration2Vec feature vectors to 2-D; exact t-SNE is O(N^2) per
iteration, about 20 ms at N = 1,500, so no Barnes-Hut approximation (and no scikit-learn
dependency) is needed. Standard settings: PCA to 50 dimensions first, perplexity 30, early
exaggeration 12 for the first 250 iterations, momentum 0.5 then 0.8, per-parameter gains, and
the learning rate max(N / 48, 50).
"""

from __future__ import annotations

import numpy as np


def tsne(
    x: np.ndarray,
    perplexity: float = 30.0,
    n_iter: int = 1000,
    seed: int = 0,
    pca_dims: int = 50,
) -> np.ndarray:
    """2-D embedding (float64 [N, 2]) of the rows of ``x`` (float [N, D], N >= 4)."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if n < 4:
        raise ValueError(f"t-SNE needs at least 4 points, got {n}")
    x = x - x.mean(axis=0)
    if x.shape[1] > pca_dims:
        _, _, vt = np.linalg.svd(x, full_matrices=False)
        x = x @ vt[:pca_dims].T
    p = joint_probabilities(_sq_distances(x), min(perplexity, (n - 1) / 3.0))
    rng = np.random.default_rng(seed)
    y = rng.normal(0.0, 1e-4, (n, 2))
    velocity, gains = np.zeros_like(y), np.ones_like(y)
    lr = max(n / 48.0, 50.0)
    for it in range(n_iter):
        exaggeration, momentum = (12.0, 0.5) if it < 250 else (1.0, 0.8)
        grad = _gradient(p * exaggeration, y)
        same = np.sign(grad) == np.sign(velocity)
        gains = np.maximum(np.where(same, gains * 0.8, gains + 0.2), 0.01)
        velocity = momentum * velocity - lr * gains * grad
        y = y + velocity
        y -= y.mean(axis=0)
    return y


def joint_probabilities(d2: np.ndarray, perplexity: float) -> np.ndarray:
    """Symmetric P (sums to 1) from squared distances."""
    cond = conditional_probabilities(d2, perplexity)
    p = cond + cond.T
    return np.maximum(p / p.sum(), 1e-12)


def conditional_probabilities(d2: np.ndarray, perplexity: float, tol: float = 1e-5) -> np.ndarray:
    """Row-stochastic P(j|i): each row's Gaussian bandwidth is bisected (all rows at once)
    until the row's entropy is log(perplexity)."""
    n = len(d2)
    target = np.log(perplexity)
    beta = np.ones(n)
    lo, hi = np.full(n, -np.inf), np.full(n, np.inf)
    off = ~np.eye(n, dtype=bool)
    d2 = d2 / max(np.median(d2[off]), 1e-12)  # scale-free bisection start
    for _ in range(100):
        logits = -d2 * beta[:, None]
        logits[~off] = -np.inf
        logits -= logits.max(axis=1, keepdims=True)
        w = np.exp(logits)
        s = w.sum(axis=1, keepdims=True)
        cond = w / s
        entropy = -(cond * np.log(np.maximum(cond, 1e-300))).sum(axis=1)
        diff = entropy - target
        if np.all(np.abs(diff) < tol):
            break
        up = diff > 0  # too flat: sharpen (raise beta)
        lo = np.where(up, beta, lo)
        hi = np.where(up, hi, beta)
        beta = np.where(np.isinf(hi), beta * 2, np.where(np.isinf(lo), beta / 2, (lo + hi) / 2))
    return cond


def _sq_distances(x: np.ndarray) -> np.ndarray:
    sq = (x * x).sum(axis=1)
    return np.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0)


def _gradient(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dC/dY of KL(P || Q) with the Student-t kernel of t-SNE."""
    num = 1.0 / (1.0 + _sq_distances(y))
    np.fill_diagonal(num, 0.0)
    q = np.maximum(num / num.sum(), 1e-12)
    w = (p - q) * num
    return 4.0 * (w.sum(axis=1)[:, None] * y - w @ y)
