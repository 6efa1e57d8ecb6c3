"""EmbeddingSMOTE draws the same synthetic points as imbalanced-learn's SMOTE on the same vectors."""

from __future__ import annotations

import numpy as np
import pytest

from nlp_balance.resampling.embedding_smote import EmbeddingSMOTE

imblearn_smote = pytest.importorskip("imblearn.over_sampling").SMOTE


def _blobs(counts, dim=8, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(loc=3.0 * c, size=(n, dim)) for c, n in enumerate(counts)]).astype(dtype)
    y = np.concatenate([np.full(n, c) for c, n in enumerate(counts)])
    perm = rng.permutation(y.size)  # interleave classes so row order matters
    return X[perm], y[perm]


@pytest.mark.parametrize(
    ("counts", "strategy", "k", "seed"),
    [
        ([60, 12, 7], "auto", 5, 0),
        ([60, 12, 7], "auto", 3, 123),
        ([40, 9], 0.5, 2, 7),
        ([50, 20, 10, 6], {1: 35, 3: 30}, 4, 99),
        ([30, 30, 8], "not majority", 5, 2**31 - 1),
        ([30, 10, 8], "all", 1, 5),
    ],
)
def test_equals_imbalanced_learn(counts, strategy, k, seed):
    X, y = _blobs(counts, seed=seed % 1000)
    ours = EmbeddingSMOTE(sampling_strategy=strategy, k_neighbors=k, random_state=seed)
    X_ours, y_ours = ours.fit_resample(X, y)
    X_ref, y_ref = imblearn_smote(sampling_strategy=strategy, k_neighbors=k, random_state=seed).fit_resample(X, y)
    assert X_ours.shape == X_ref.shape and X_ours.shape[0] > X.shape[0]
    np.testing.assert_array_equal(y_ours, y_ref)
    assert np.allclose(X_ours, X_ref, rtol=0, atol=1e-12)


def test_float32_embeddings_and_string_labels_match():
    X, y = _blobs([45, 11, 9], dim=16, seed=3, dtype=np.float32)
    names = np.array(["ham", "spam", "zeta"])[y]
    X_ours, y_ours = EmbeddingSMOTE(random_state=11).fit_resample(X, names)
    X_ref, y_ref = imblearn_smote(random_state=11).fit_resample(X, names)
    assert X_ours.dtype == np.float32
    np.testing.assert_array_equal(y_ours, y_ref)
    assert np.allclose(X_ours, X_ref)
    X_d, _ = EmbeddingSMOTE(sampling_strategy={"zeta": 20}, random_state=11).fit_resample(X, names)
    X_dr, _ = imblearn_smote(sampling_strategy={"zeta": 20}, random_state=11).fit_resample(X, names)
    assert np.allclose(X_d, X_dr)


def test_shared_random_state_instance_matches():
    X, y = _blobs([50, 10, 12], seed=4)
    X_ours, _ = EmbeddingSMOTE(random_state=np.random.RandomState(8)).fit_resample(X, y)
    X_ref, _ = imblearn_smote(random_state=np.random.RandomState(8)).fit_resample(X, y)
    assert np.allclose(X_ours, X_ref)


def test_synthetic_points_lie_between_a_point_and_a_same_class_neighbour():
    X, y = _blobs([40, 9], seed=5)
    smote = EmbeddingSMOTE(k_neighbors=3, random_state=0)
    X_res, _ = smote.fit_resample(X, y)
    new = X_res[len(X):]
    src, nn = smote.sample_indices_, smote.neighbor_indices_
    assert (y[src] == 1).all() and (y[nn] == 1).all() and (src != nn).all()
    direction = X[nn] - X[src]
    t = ((new - X[src]) * direction).sum(1) / (direction**2).sum(1)
    np.testing.assert_allclose(X[src] + t[:, None] * direction, new, atol=1e-10)
    assert ((t >= 0) & (t < 1)).all()
    # each partner is among the k nearest same-class points of the source (brute force)
    minority = np.flatnonzero(y == 1)
    for s, n in zip(src, nn):
        d = ((X[minority] - X[s]) ** 2).sum(1)
        nearest = minority[np.argsort(d)[1:4]]
        assert n in nearest


def test_seeded_and_deterministic_on_real_embeddings(sms_spam):
    """TF-IDF + SVD vectors of real SMS texts (stand-ins for sentence embeddings) match imbalanced-learn."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    train = sms_spam["train"].select(range(600))
    X = TruncatedSVD(24, random_state=0).fit_transform(TfidfVectorizer().fit_transform(train["text"]))
    y = np.asarray(train["label"])
    a = EmbeddingSMOTE(random_state=1).fit_resample(X, y)
    b = EmbeddingSMOTE(random_state=1).fit_resample(X, y)
    ref = imblearn_smote(random_state=1).fit_resample(X, y)
    np.testing.assert_array_equal(a[0], b[0])
    assert np.allclose(a[0], ref[0]) and (a[1] == ref[1]).all()
    assert np.bincount(a[1]).tolist() == [np.bincount(y).max()] * 2


@pytest.mark.parametrize(
    ("kwargs", "X", "y", "needle"),
    [
        ({"k_neighbors": 0}, None, None, "k_neighbors"),
        ({"random_state": "x"}, None, None, "random_state"),
        ({"k_neighbors": 5}, np.zeros((12, 2)) + np.arange(12)[:, None], [0] * 9 + [1] * 3, "class 1 has 3"),
        ({}, np.zeros(5), [0, 0, 0, 1, 1], "2-D"),
        ({}, np.zeros((5, 2)), [0, 0, 1], "one label per row"),
        ({"sampling_strategy": {7: 10}}, np.zeros((5, 2)), [0, 0, 0, 1, 1], "class 7"),
        ({}, np.full((4, 2), np.nan), [0, 0, 1, 1], "NaN"),
    ],
)
def test_errors_name_the_bad_value(kwargs, X, y, needle):
    with pytest.raises(ValueError, match=needle):
        EmbeddingSMOTE(**kwargs).fit_resample(X if X is not None else np.zeros((4, 2)), y or [0, 0, 1, 1])
