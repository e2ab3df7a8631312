"""Calibration of the negative head: Platt scaling and the expected calibration error (numpy only).

An NB-LR head ranks posts well but its raw probabilities are over- or under-confident, and the
digest and the alerts read `negative_prob` as a probability ("0.7 means about 70 % negative").
Platt scaling fits p = sigmoid(a·z + c) to the raw logit z on rows the head was not trained on.
Because z is linear in the features, a·z + c is too: the calibrated head is the same weights
times a, with bias a·b + c, and inference does not change at all.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def fit_platt(z: np.ndarray, y: np.ndarray, iterations: int = 50) -> tuple[float, float]:
    """(a, c) maximising the likelihood of sigmoid(a·z + c) for labels y, by Newton's method.

    Platt's smoothed targets keep (a, c) finite when the rows are separable.
    """
    z = np.asarray(z, dtype=np.float64)
    y = np.asarray(y, dtype=bool)
    if z.size == 0 or y.all() or not y.any():
        return 1.0, 0.0
    n_pos, n_neg = float(y.sum()), float((~y).sum())
    t = np.where(y, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    a, c = 1.0, 0.0
    for _ in range(iterations):
        p = sigmoid(a * z + c)
        g = np.array([((p - t) * z).sum(), (p - t).sum()])
        w = p * (1 - p) + 1e-12
        h = np.array([[(w * z * z).sum(), (w * z).sum()], [(w * z).sum(), w.sum()]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(h, g)
        a, c = a - float(step[0]), c - float(step[1])
        if np.abs(step).max() < 1e-8:
            break
    return a, c


def expected_calibration_error(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Mean |predicted - observed| over equal-width probability bins, weighted by each bin's size."""
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if p.size == 0:
        return 0.0
    which = np.minimum((p * bins).astype(int), bins - 1)
    err = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            err += inside.mean() * abs(p[inside].mean() - y[inside].mean())
    return float(err)
