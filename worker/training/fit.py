#!/usr/bin/python3
"""Fit the RetainWise churn model and write worker/model/{churn.onnx,manifest.json,parity.json}.

Input is a *canonical* CSV (column mapping version 1: canonical column names and values, "" for missing)
plus a 0/1 label column; `worker/training/train.ts` produces it with the scoring library's own column
mapper, so training and scoring read customer files identically. Run it through `npm run train`.

The model is an L2-regularised logistic regression on standardised, one-hot encoded features, because
every explanation must be exact model arithmetic: contribution = coefficient x standardised value, and
sum(contributions) + intercept = logit. One coefficient vector ("variant") is fitted per input shape
(all columns, SaaS-aliasable columns, required columns only) over one shared feature space, so a file
that lacks optional columns is scored by a model trained without them instead of by a model that
silently treats them as average.

Everything is deterministic (fixed seeds and folds, lbfgs, single-threaded BLAS): the same input and
library versions give the same bytes in all three files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import tempfile
from dataclasses import dataclass

# Single-threaded BLAS, set before numpy loads it: threaded reductions change the last bits of the
# coefficients with the machine's core count, and a re-run must reproduce the artifacts byte for byte.
for _variable in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ[_variable] = '1'

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score  # noqa: E402
from sklearn.model_selection import RepeatedStratifiedKFold  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

SEED = 20240601
CV_SPLITS = 5
CV_REPEATS = 3
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
# onnxruntime-node 1.30 runs any opset up to 21; 17 is the newest the Debian onnx (1.12) checker knows.
OPSET = 17
IR_VERSION = 8

REQUIRED_COLUMNS = ('tenure', 'MonthlyCharges', 'TotalCharges', 'Contract')
NUMERIC_COLUMNS = ('tenure', 'MonthlyCharges', 'TotalCharges')
# Telco order; Contract is the only required categorical.
CATEGORICAL_COLUMNS = (
    'gender',
    'SeniorCitizen',
    'Partner',
    'Dependents',
    'PhoneService',
    'MultipleLines',
    'InternetService',
    'OnlineSecurity',
    'OnlineBackup',
    'DeviceProtection',
    'TechSupport',
    'StreamingTV',
    'StreamingMovies',
    'Contract',
    'PaperlessBilling',
    'PaymentMethod',
)
# Optional columns a SaaS-style file can still alias into (spec/csv-io.md section 2).
SAAS_ALIAS_COLUMNS = ('gender', 'SeniorCitizen', 'Partner', 'Dependents', 'PaymentMethod')
MAX_CATEGORIES = 20

# Candidate encodings of the numeric columns; cross-validation picks one for the shared feature space.
# Tenure and charges are heavily skewed (churn concentrates in the first months), hence the log1p options.
NUMERIC_SPECS: dict[str, tuple[tuple[str, str], ...]] = {
    'identity': (('tenure', 'identity'), ('MonthlyCharges', 'identity'), ('TotalCharges', 'identity')),
    'log1p': (('tenure', 'log1p'), ('MonthlyCharges', 'identity'), ('TotalCharges', 'log1p')),
    'tenure_both': (
        ('tenure', 'identity'),
        ('tenure', 'log1p'),
        ('MonthlyCharges', 'identity'),
        ('TotalCharges', 'log1p'),
    ),
}

THRESHOLDS = {'high': 0.6, 'medium': 0.3, 'retention': 0.5}


class TrainingError(Exception):
    """A problem with the training data that the user can fix; printed without a traceback."""


# --------------------------------------------------------------------------------------------- data


# Parsed columns: float arrays (NaN = missing) for numeric columns, str arrays ("" = missing) otherwise.
Columns = dict[str, np.ndarray]


def parse_columns(cells: pd.DataFrame) -> Columns:
    return {
        c: parse_numbers(cells[c], c) if c in NUMERIC_COLUMNS else cells[c].to_numpy(dtype=str) for c in cells.columns
    }


@dataclass(frozen=True)
class Dataset:
    values: Columns  # only the model columns that are present
    label: np.ndarray  # int 0/1

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.values)

    @property
    def size(self) -> int:
        return len(self.label)

    def subset(self, idx: np.ndarray) -> 'Dataset':
        return Dataset({c: v[idx] for c, v in self.values.items()}, self.label[idx])


def read_dataset(path: str, label_column: str) -> tuple[Dataset, pd.DataFrame]:
    """The parsed training data, and its model columns as canonical text (for the parity cases)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    if label_column not in frame.columns:
        raise TrainingError(f'label column {label_column!r} is not in {path}')
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise TrainingError(f'required columns missing from the training data: {", ".join(missing)}')
    labels = frame[label_column]
    bad = sorted(set(labels) - {'0', '1'})
    if bad:
        raise TrainingError(f'label column {label_column!r} must hold 0/1, found {bad[:3]}')
    model_columns = [c for c in NUMERIC_COLUMNS + CATEGORICAL_COLUMNS if c in frame.columns]
    cells = frame[model_columns].reset_index(drop=True)
    values = parse_columns(cells)
    for column in model_columns:
        if column in CATEGORICAL_COLUMNS and len(set(values[column]) - {''}) > MAX_CATEGORIES:
            raise TrainingError(f'column {column!r} has more than {MAX_CATEGORIES} distinct values; is it canonical?')
    y = labels.astype(int).to_numpy()
    per_class = min(int(y.sum()), int(len(y) - y.sum()))
    if per_class < 10 * CV_SPLITS:
        raise TrainingError(
            f'need at least {10 * CV_SPLITS} churned and {10 * CV_SPLITS} retained customers, '
            f'found {int(y.sum())} and {int(len(y) - y.sum())}'
        )
    return Dataset(values, y), cells


def parse_numbers(cells: pd.Series, column: str) -> np.ndarray:
    """Canonical numbers or "" (missing) -> float array with NaN for missing."""
    values = pd.to_numeric(cells.replace('', np.nan), errors='coerce')
    bad = cells[values.isna() & (cells != '')]
    if len(bad):
        raise TrainingError(f'column {column!r} is not canonical: non-numeric value {bad.iloc[0]!r}')
    return values.to_numpy(dtype=float)


# ------------------------------------------------------------------------------------------ encoder


@dataclass(frozen=True)
class Encoder:
    """The raw encoding (before standardisation) exactly as the TypeScript encoder reproduces it."""

    features: tuple[dict, ...]  # manifest features without mean/scale
    categories: dict[str, tuple[str, ...]]  # categorical column -> its categories, in feature order

    def encode(self, values: Columns, rows: int, means: np.ndarray | None = None) -> np.ndarray:
        """Raw-encode rows. A column absent from `values`, or a missing/unknown category, takes the
        feature's mean (standardised 0, contribution exactly 0); before the means are known (training),
        those cells are NaN and `fill_with_means` fills them with the mean of the known values."""
        out = np.empty((rows, len(self.features)), dtype=np.float64)
        for j, feature in enumerate(self.features):
            column = feature['column']
            neutral = np.nan if means is None else float(means[j])
            if column not in values:
                out[:, j] = neutral
            elif feature['kind'] == 'numeric':
                x = np.where(np.isnan(values[column]), feature['impute'], values[column])
                x = np.clip(x, feature['clip'][0], feature['clip'][1])
                out[:, j] = np.log1p(x) if feature['transform'] == 'log1p' else x
            else:
                # A missing category is no evidence either way: like an absent column it contributes 0.
                # Imputing the mode instead would charge every blank Contract the month-to-month risk
                # and every blank InternetService the fiber-optic risk (lessons #22).
                known = np.isin(values[column], self.categories[column])
                indicator = (values[column] == feature['category']).astype(np.float64)
                out[:, j] = np.where(known, indicator, neutral)
        return out


def fill_with_means(raw: np.ndarray) -> np.ndarray:
    """Training-time neutral value: the mean of the known values, which is then also the column mean."""
    return np.where(np.isnan(raw), np.nanmean(raw, axis=0), raw)


def fit_encoder(data: Dataset, numeric_spec: tuple[tuple[str, str], ...]) -> Encoder:
    features: list[dict] = []
    for column, transform in numeric_spec:
        x = data.values[column]
        observed = x[~np.isnan(x)]
        if observed.size == 0:
            raise TrainingError(f'column {column!r} has no values')
        low, high = float(observed.min()), float(observed.max())
        if transform == 'log1p' and low <= -1:
            raise TrainingError(f'column {column!r} has values <= -1; cannot take log1p')
        features.append(
            {
                'name': column if transform == 'identity' else f'{transform}({column})',
                'column': column,
                'kind': 'numeric',
                'transform': transform,
                'clip': [low, high],
                'impute': float(np.median(observed)),
            }
        )
    categories: dict[str, tuple[str, ...]] = {}
    for column in CATEGORICAL_COLUMNS:
        if column not in data.columns:
            continue
        categories[column] = tuple(sorted(set(data.values[column]) - {''}))
        if not categories[column]:
            del categories[column]
            continue
        for category in categories[column]:
            features.append(
                {'name': f'{column}={category}', 'column': column, 'kind': 'indicator', 'category': category}
            )
    return Encoder(tuple(features), categories)


def fit_scaler(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scaler = StandardScaler().fit(raw)
    return scaler.mean_.astype(np.float64), scaler.scale_.astype(np.float64)


# ------------------------------------------------------------------------------------------ variants


@dataclass(frozen=True)
class VariantSpec:
    name: str
    columns: tuple[str, ...]  # canonical columns the variant reads


def variant_specs(present: tuple[str, ...]) -> list[VariantSpec]:
    """Richest first. Variants with the same columns are one, named after the poorest of them (a file
    with only the required columns trains `core`, one with only SaaS-aliasable extras `saas`)."""
    optional = [c for c in CATEGORICAL_COLUMNS if c in present and c not in REQUIRED_COLUMNS]
    candidates = [
        VariantSpec('full', tuple(REQUIRED_COLUMNS) + tuple(optional)),
        VariantSpec('saas', tuple(REQUIRED_COLUMNS) + tuple(c for c in SAAS_ALIAS_COLUMNS if c in optional)),
        VariantSpec('core', tuple(REQUIRED_COLUMNS)),
    ]
    specs: list[VariantSpec] = []
    for spec in reversed(candidates):
        if all(set(spec.columns) != set(s.columns) for s in specs):
            specs.insert(0, spec)
    return specs


def feature_mask(encoder: Encoder, columns: tuple[str, ...]) -> np.ndarray:
    return np.array([f['column'] in columns for f in encoder.features])


def logistic(warm_start: bool = False) -> LogisticRegression:
    return LogisticRegression(solver='lbfgs', max_iter=10_000, tol=1e-10, warm_start=warm_start)


def fit_logistic(
    z: np.ndarray, y: np.ndarray, mask: np.ndarray, c: float, model: LogisticRegression | None = None
) -> tuple[np.ndarray, float, LogisticRegression]:
    """Fits on the masked features; coefficients of the other features are 0."""
    model = model or logistic()
    model.set_params(C=c).fit(z[:, mask], y)
    coefficients = np.zeros(z.shape[1])
    coefficients[mask] = model.coef_[0]
    return coefficients, float(model.intercept_[0]), model


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# ------------------------------------------------------------------------------------ cross-validation


@dataclass
class FoldScores:
    auc: list[float]
    brier: list[float]
    log_loss: list[float]

    def summary(self) -> dict:
        return {
            'auc': round(float(np.mean(self.auc)), 6),
            'auc_std': round(float(np.std(self.auc)), 6),
            'brier': round(float(np.mean(self.brier)), 6),
            'log_loss': round(float(np.mean(self.log_loss)), 6),
            'folds': len(self.auc),
        }


@dataclass(frozen=True)
class HeldOut:
    """One fold: its standardised held-out rows and the coefficients fitted without them."""

    z: np.ndarray
    y: np.ndarray
    feature_columns: np.ndarray  # column of each feature
    fits: dict[tuple[str, float], tuple[np.ndarray, float]]  # (variant, C) -> (coefficients, intercept)


class CrossValidation:
    """Repeated stratified k-fold CV of every (variant, C). Held-out rows can be scored with any set of
    columns absent (their features standardised to 0, exactly as at scoring time), so the value of each
    column to each variant is measured on the model that will be shipped, not on a refit."""

    def __init__(self, data: Dataset, numeric_spec, specs: list[VariantSpec], grid: dict[str, tuple[float, ...]]):
        self.folds: list[HeldOut] = []
        splitter = RepeatedStratifiedKFold(n_splits=CV_SPLITS, n_repeats=CV_REPEATS, random_state=SEED)
        for train_idx, test_idx in splitter.split(np.zeros(data.size), data.label):
            train, test = data.subset(train_idx), data.subset(test_idx)
            encoder = fit_encoder(train, numeric_spec)
            raw_train = fill_with_means(encoder.encode(train.values, train.size))
            mean, scale = fit_scaler(raw_train)
            z_train = (raw_train - mean) / scale
            fits = {}
            for spec in specs:
                mask = feature_mask(encoder, spec.columns)
                # along the C grid each fit starts from the previous solution: same optimum, fewer iterations
                warm = logistic(warm_start=True)
                for c in sorted(grid[spec.name]):
                    w, b, _ = fit_logistic(z_train, train.label, mask, c, warm)
                    fits[(spec.name, c)] = (w, b)
            z_test = (encoder.encode(test.values, test.size, mean) - mean) / scale
            columns = np.array([f['column'] for f in encoder.features])
            self.folds.append(HeldOut(z_test, test.label, columns, fits))
        self._probabilities: dict[tuple, list[np.ndarray]] = {}

    def probabilities(self, variant: str, c: float, absent: frozenset[str] = frozenset()) -> list[np.ndarray]:
        key = (variant, c, absent)
        if key not in self._probabilities:
            result = []
            for fold in self.folds:
                w, b = fold.fits[(variant, c)]
                keep = ~np.isin(fold.feature_columns, list(absent))
                result.append(sigmoid(fold.z[:, keep] @ w[keep] + b))
            self._probabilities[key] = result
        return self._probabilities[key]

    def auc(self, variant: str, c: float, absent: frozenset[str] = frozenset()) -> float:
        p = self.probabilities(variant, c, absent)
        return float(np.mean([roc_auc_score(fold.y, q) for fold, q in zip(self.folds, p)]))

    def scores(self, variant: str, c: float, absent: frozenset[str] = frozenset()) -> FoldScores:
        p = self.probabilities(variant, c, absent)
        return FoldScores(
            [float(roc_auc_score(fold.y, q)) for fold, q in zip(self.folds, p)],
            [float(brier_score_loss(fold.y, q)) for fold, q in zip(self.folds, p)],
            [float(log_loss(fold.y, q, labels=[0, 1])) for fold, q in zip(self.folds, p)],
        )


def select_model(data: Dataset, specs: list[VariantSpec], log) -> tuple[str, dict[str, float], CrossValidation, dict]:
    """Pick the numeric encoding (shared) and C (per variant) with the lowest mean CV log loss."""
    grid = {s.name: C_GRID for s in specs}
    best = None
    search: dict[str, dict] = {}
    for spec_name, numeric_spec in NUMERIC_SPECS.items():
        cv = CrossValidation(data, numeric_spec, specs, grid)
        summaries = {(s.name, c): cv.scores(s.name, c).summary() for s in specs for c in C_GRID}
        chosen = {s.name: min(C_GRID, key=lambda c: (summaries[(s.name, c)]['log_loss'], c)) for s in specs}
        total = sum(summaries[(s.name, chosen[s.name])]['log_loss'] for s in specs)
        search[spec_name] = {s.name: {str(c): summaries[(s.name, c)] for c in C_GRID} for s in specs}
        log(
            f'  numeric encoding {spec_name}: '
            + ', '.join(
                f'{s.name} C={chosen[s.name]} auc={summaries[(s.name, chosen[s.name])]["auc"]:.4f}' for s in specs
            )
        )
        if best is None or total < best[0]:
            best = (total, spec_name, chosen, cv)
    assert best is not None
    return best[1], best[2], best[3], search


class Selector:
    """The scoring-time rule: the first variant (richest first) whose `requires` are all present."""

    def __init__(self, specs: list[VariantSpec], requires: dict[str, list[str]]):
        self.specs, self.requires = specs, requires

    def choose(self, present: set[str], among: list[VariantSpec] | None = None) -> VariantSpec:
        return next(s for s in (among or self.specs) if set(self.requires[s.name]) <= present)


def assign_requires(specs: list[VariantSpec], cv: CrossValidation, chosen_c: dict[str, float]) -> tuple[dict, dict]:
    """Decide, poorest variant first, which optional columns each variant requires, so that whenever it
    is chosen it beats (CV AUC) the poorer variant that would be chosen otherwise:
    1. greedy forward selection from the required columns alone: add the column that helps this variant
       most until, with only those columns present, it beats the fallback (this catches groups of
       columns that only matter together, e.g. InternetService and its add-on services);
    2. also require any column whose absence alone makes the fallback better."""
    requires: dict[str, list[str]] = {s.name: [] for s in specs}
    selector = Selector(specs, requires)
    analysis: dict[str, dict] = {}

    def auc(spec: VariantSpec, present: set[str]) -> float:
        return cv.auc(spec.name, chosen_c[spec.name], frozenset(c for c in spec.columns if c not in present))

    for i in reversed(range(len(specs) - 1)):
        spec, poorer = specs[i], specs[i + 1 :]
        optional = [c for c in spec.columns if c not in REQUIRED_COLUMNS]
        chosen: list[str] = []
        steps = []
        while True:
            present = set(REQUIRED_COLUMNS) | set(chosen)
            fallback = selector.choose(present, poorer)
            own, other = auc(spec, present), auc(fallback, present)
            steps.append(
                {'with': list(chosen), 'auc': round(own, 6), 'fallback': fallback.name, 'fallback_auc': round(other, 6)}
            )
            if own > other or len(chosen) == len(optional):
                break
            candidates = [c for c in optional if c not in chosen]
            chosen.append(max(candidates, key=lambda c: (auc(spec, present | {c}), c)))
        single = {}
        for column in optional:
            present = set(spec.columns) - {column}
            fallback = selector.choose(present, poorer)
            own, other = auc(spec, present), auc(fallback, present)
            single[column] = {'auc': round(own, 6), 'fallback': fallback.name, 'fallback_auc': round(other, 6)}
            if own < other and column not in chosen:
                chosen.append(column)
        requires[spec.name] = [c for c in optional if c in chosen]
        analysis[spec.name] = {'forward_selection': steps, 'without_one_column': single}
    return requires, analysis


# ---------------------------------------------------------------------------------------------- ONNX


def build_onnx(mean: np.ndarray, scale: np.ndarray, weights: np.ndarray, intercepts: np.ndarray, doc: str) -> bytes:
    n_features = len(mean)
    nodes = [
        helper.make_node('Sub', ['features', 'mean'], ['centered']),
        helper.make_node('Div', ['centered', 'scale'], ['standardized']),
        helper.make_node('Gather', ['W', 'variant'], ['w_row'], axis=0),  # [1, F]
        helper.make_node('Mul', ['standardized', 'w_row'], ['contributions']),
        helper.make_node('ReduceSum', ['contributions', 'sum_axes'], ['contribution_sum'], keepdims=0),
        helper.make_node('Gather', ['B', 'variant'], ['b_row'], axis=0),  # [1]
        helper.make_node('Add', ['contribution_sum', 'b_row'], ['logit']),
        helper.make_node('Sigmoid', ['logit'], ['probability']),
    ]
    initializers = [
        numpy_helper.from_array(mean.astype(np.float64), 'mean'),
        numpy_helper.from_array(scale.astype(np.float64), 'scale'),
        numpy_helper.from_array(weights.astype(np.float64), 'W'),
        numpy_helper.from_array(intercepts.astype(np.float64), 'B'),
        numpy_helper.from_array(np.array([1], dtype=np.int64), 'sum_axes'),
    ]
    graph = helper.make_graph(
        nodes,
        'retainwise_churn',
        inputs=[
            helper.make_tensor_value_info('features', TensorProto.DOUBLE, ['N', n_features]),
            helper.make_tensor_value_info('variant', TensorProto.INT64, [1]),
        ],
        outputs=[
            helper.make_tensor_value_info('probability', TensorProto.DOUBLE, ['N']),
            helper.make_tensor_value_info('logit', TensorProto.DOUBLE, ['N']),
            helper.make_tensor_value_info('contributions', TensorProto.DOUBLE, ['N', n_features]),
        ],
        initializer=initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid('', OPSET)],
        producer_name='retainwise-training',
        producer_version='1',
        doc_string=doc,
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()


# -------------------------------------------------------------------------------------------- parity


def parity_cases(cells: pd.DataFrame, model: 'FittedModel', selector: Selector, rng) -> list[dict]:
    """Rows the TypeScript encoder and ONNX must reproduce: real rows, rows with one optional column
    absent, rows with missing and out-of-range cells; probabilities from scikit-learn. Each case's
    columns select its variant under the scoring-time rule."""
    cases = []

    def add(spec: VariantSpec, rows: pd.DataFrame) -> None:
        raw = model.encoder.encode(parse_columns(rows), len(rows), model.mean)
        z = (raw - model.mean) / model.scale
        mask = feature_mask(model.encoder, spec.columns)
        estimator = model.estimators[spec.name]
        probability = estimator.predict_proba(z[:, mask])[:, 1]
        logit = estimator.decision_function(z[:, mask])
        chosen = selector.choose(set(rows.columns))
        if chosen.name != spec.name:
            raise AssertionError(f'parity case for {spec.name} would select {chosen.name}')
        for i in range(len(rows)):
            cases.append(
                {
                    'variant': spec.name,
                    'row': {c: str(rows.iloc[i][c]) for c in rows.columns},
                    'features': [float(v) for v in raw[i]],
                    'logit': float(logit[i]),
                    'probability': float(probability[i]),
                }
            )

    for spec in selector.specs:
        columns = list(spec.columns)
        sample = cells.iloc[rng.choice(len(cells), size=80, replace=False)][columns]
        add(spec, sample.reset_index(drop=True))
        droppable = [c for c in columns if c not in REQUIRED_COLUMNS and c not in selector.requires[spec.name]]
        for column in droppable[:10]:
            row = cells.iloc[[int(rng.integers(len(cells)))]][[c for c in columns if c != column]]
            add(spec, row.reset_index(drop=True))
        edge = cells.iloc[rng.choice(len(cells), size=12, replace=False)][columns].reset_index(drop=True)
        edge.loc[0, 'TotalCharges'] = ''
        edge.loc[1, 'tenure'] = ''
        edge.loc[2, 'MonthlyCharges'] = ''
        edge.loc[3, 'Contract'] = ''
        edge.loc[4, 'tenure'] = '250'
        edge.loc[5, 'MonthlyCharges'] = '0.5'
        edge.loc[6, 'TotalCharges'] = '1000000'
        edge.loc[7, 'tenure'] = '0'
        edge.loc[8, 'TotalCharges'] = '0'
        for k, column in enumerate([c for c in columns if c not in NUMERIC_COLUMNS][:3]):
            edge.loc[9 + k, column] = ''
        add(spec, edge)
    return cases


# ---------------------------------------------------------------------------------------------- main


def to_json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False) + '\n'


def write_atomically(directory: str, files: dict[str, bytes]) -> None:
    """Write every file to a temporary name first, so a failure never leaves a half-written model."""
    staged = []
    try:
        for name, content in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f'.{name}.', dir=directory)
            with os.fdopen(fd, 'wb') as handle:
                handle.write(content)
            staged.append((tmp, os.path.join(directory, name)))
        for tmp, final in staged:
            os.chmod(tmp, 0o644)
            os.replace(tmp, final)
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)


@dataclass(frozen=True)
class FittedModel:
    encoder: Encoder
    mean: np.ndarray
    scale: np.ndarray
    specs: list[VariantSpec]
    weights: np.ndarray  # [V, F]
    intercepts: np.ndarray  # [V]
    estimators: dict[str, LogisticRegression]


def fit_model(data: Dataset, numeric_spec, specs: list[VariantSpec], chosen_c: dict[str, float]) -> FittedModel:
    """The shipped model: encoder and scaler fitted on all rows, one logistic regression per variant."""
    encoder = fit_encoder(data, numeric_spec)
    raw = fill_with_means(encoder.encode(data.values, data.size))
    mean, scale = fit_scaler(raw)
    z = (raw - mean) / scale
    weights, intercepts, estimators = [], [], {}
    for spec in specs:
        w, b, estimator = fit_logistic(z, data.label, feature_mask(encoder, spec.columns), chosen_c[spec.name])
        weights.append(w)
        intercepts.append(b)
        estimators[spec.name] = estimator
    return FittedModel(encoder, mean, scale, specs, np.vstack(weights), np.array(intercepts), estimators)


def input_shapes(specs: list[VariantSpec]) -> dict[str, set[str]]:
    """The input shapes reported in the manifest's `metrics`."""
    optional = set(specs[0].columns) - set(REQUIRED_COLUMNS)
    return {
        'all_columns': set(specs[0].columns),
        'saas_aliases': set(REQUIRED_COLUMNS) | (set(SAAS_ALIAS_COLUMNS) & optional),
        'required_only': set(REQUIRED_COLUMNS),
    }


def build_manifest(args, data: Dataset, model: FittedModel, onnx_sha: str, selection: dict) -> dict:
    cv: CrossValidation = selection['cv']
    chosen_c: dict[str, float] = selection['C']
    selector: Selector = selection['selector']

    def shape_metrics(present: set[str]) -> dict:
        spec = selector.choose(present)
        absent = frozenset(c for c in spec.columns if c not in present)
        return {**cv.scores(spec.name, chosen_c[spec.name], absent).summary(), 'variant': spec.name}

    columns: dict[str, dict] = {}
    for column in data.columns:
        if column in NUMERIC_COLUMNS:
            columns[column] = {}
        elif column in model.encoder.categories:
            columns[column] = {'categories': list(model.encoder.categories[column])}

    return {
        'schema_version': 1,
        'model_type': 'logistic_regression',
        'model_version': f'2.0.0+{onnx_sha[:12]}',
        'column_mapping_version': args.column_mapping_version,
        'created_at': args.created_at,
        'onnx': {
            'file': 'churn.onnx',
            'sha256': onnx_sha,
            'opset': OPSET,
            'inputs': {'features': 'features', 'variant': 'variant'},
            'outputs': {'probability': 'probability', 'logit': 'logit', 'contributions': 'contributions'},
        },
        'training_data': {
            'file': args.source_file,
            'sha256': args.source_sha256,
            'rows': int(data.size),
            'positives': int(data.label.sum()),
            'label_column': args.source_label or args.label,
        },
        'columns': columns,
        'features': [
            {**feature, 'mean': float(model.mean[j]), 'scale': float(model.scale[j])}
            for j, feature in enumerate(model.encoder.features)
        ],
        'variants': [
            {
                'name': spec.name,
                'requires': selector.requires[spec.name],
                'coefficients': [float(v) for v in model.weights[i]],
                'intercept': float(model.intercepts[i]),
                'cv': cv.scores(spec.name, chosen_c[spec.name]).summary(),
            }
            for i, spec in enumerate(model.specs)
        ],
        'thresholds': THRESHOLDS,
        'metrics': {name: shape_metrics(present) for name, present in input_shapes(model.specs).items()},
        'training': {
            'estimator': 'sklearn.linear_model.LogisticRegression(penalty="l2", solver="lbfgs")',
            'standardisation': 'sklearn.preprocessing.StandardScaler on the raw-encoded features',
            'numeric_encoding': selection['numeric_encoding'],
            'missing_values': (
                'numeric cell: the feature impute (training median), then clip and transform; categorical '
                'cell that is missing or not in the column categories: every indicator of the column takes '
                'its mean (contributes 0); absent column: every feature of it takes its mean (contributes 0)'
            ),
            'C': chosen_c,
            'selection': 'lowest mean CV log loss; numeric encoding shared by all variants, C per variant',
            'cv': f'RepeatedStratifiedKFold(n_splits={CV_SPLITS}, n_repeats={CV_REPEATS}, random_state={SEED})',
            'cv_note': 'metrics come from the same folds that chose C and the encoding (slightly optimistic)',
            'c_grid': list(C_GRID),
            'requires_analysis': selection['requires_analysis'],
            'search': selection['search'],
            'versions': {
                'python': platform.python_version(),
                'numpy': np.__version__,
                'pandas': pd.__version__,
                'scikit-learn': sklearn.__version__,
                'onnx': onnx.__version__,
            },
        },
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--data', required=True, help='canonical CSV with a 0/1 label column')
    parser.add_argument('--label', required=True, help='name of the 0/1 label column in --data')
    parser.add_argument('--out', required=True, help='directory for churn.onnx, manifest.json, parity.json')
    parser.add_argument('--source-file', required=True, help='name of the original training file')
    parser.add_argument('--source-sha256', required=True, help='sha256 of the original training file')
    parser.add_argument('--source-label', help='label column name in the original file (default: --label)')
    parser.add_argument('--column-mapping-version', default='1')
    parser.add_argument('--created-at', default='unrecorded', help='build time to record (default: none, reproducible)')
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    data, cells = read_dataset(args.data, args.label)
    log(f'training rows: {data.size}, churned: {int(data.label.sum())}')
    specs = variant_specs(data.columns)

    log(f'model selection ({CV_REPEATS}x{CV_SPLITS}-fold stratified CV, C in {list(C_GRID)}):')
    numeric_encoding, chosen_c, cv, search = select_model(data, specs, log)
    requires, requires_analysis = assign_requires(specs, cv, chosen_c)
    selector = Selector(specs, requires)
    model = fit_model(data, NUMERIC_SPECS[numeric_encoding], specs, chosen_c)

    onnx_bytes = build_onnx(
        model.mean,
        model.scale,
        model.weights,
        model.intercepts,
        f'RetainWise churn model: logistic regression, {len(specs)} variants, trained on {args.source_file}',
    )
    selection = {
        'cv': cv,
        'C': chosen_c,
        'selector': selector,
        'numeric_encoding': numeric_encoding,
        'requires_analysis': requires_analysis,
        'search': search,
    }
    manifest = build_manifest(args, data, model, hashlib.sha256(onnx_bytes).hexdigest(), selection)
    rng = np.random.default_rng(SEED)
    parity = {
        'variant_names': [s.name for s in specs],
        'cases': parity_cases(cells, model, selector, rng),
    }

    os.makedirs(args.out, exist_ok=True)
    write_atomically(
        args.out,
        {
            'churn.onnx': onnx_bytes,
            'manifest.json': to_json(manifest).encode(),
            'parity.json': to_json(parity).encode(),
        },
    )
    for name, m in manifest['metrics'].items():
        log(f'{name}: variant {m["variant"]} auc={m["auc"]:.4f}±{m["auc_std"]:.4f} brier={m["brier"]:.4f}')
    log(f'wrote {args.out}/churn.onnx, manifest.json, parity.json ({len(parity["cases"])} parity cases)')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except TrainingError as error:
        print(f'training failed: {error}', file=sys.stderr)
        sys.exit(2)
