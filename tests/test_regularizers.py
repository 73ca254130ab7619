"""MaxNorm (Srivastava et al. 2014) bounds the incoming weights of every unit, whatever the layer
kind: dense (out, in) rows, convolution (out, in, k, k) filters, transposed-convolution
(in, out, k, k) output channels, RBM / DBM (visible, hidden) columns."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab
from accelbrainbase.core.regularizers import UnitWeights
from accelbrainbase.data import ArrayIterator

C = 0.5
SGD = ab.OptimizerSpec("sgd", learning_rate=1e-6)


def dense(b, **kw):
    return b.NeuralNetworks([12, 32, 3], loss="cross_entropy", **kw), 12, True


def conv(b, **kw):
    return b.ConvolutionalNeuralNetworks.example(64, code_size=3, **kw), 64, True


def transposed_conv(b, **kw):
    return b.ConvolutionalAutoEncoder.example(64, code_size=4, hidden=(4, 6), **kw), 64, False


def rbm(b, **kw):
    return b.RestrictedBoltzmannMachines(12, 5, **kw), 12, False


def dbm(b, **kw):
    return b.DeepBoltzmannMachines([12, 8, 5], pretrain_epochs=0, n_chains=8, **kw), 12, False


def dbn(b, **kw):
    return b.DeepBeliefNetworks([12, 8, 5], pretrain_epochs=0, **kw), 12, False


#: (builder, the axis that indexes the units of each weight, by canonical name)
KINDS = {
    "dense": (dense, lambda name: 0),
    "conv": (conv, lambda name: 0),
    "transposed_conv": (transposed_conv, lambda name: 1 if name.startswith("decoder.deconvs.") else 0),
    "rbm": (rbm, lambda name: 1),
    "dbm": (dbm, lambda name: 1),
    "dbn": (dbn, lambda name: 1),
}


def unit_norms(weight, axis):
    return np.sqrt(np.sum(np.square(weight), axis=tuple(d for d in range(weight.ndim) if d != axis)))


@pytest.mark.parametrize("kind", KINDS)
def test_max_norm_bounds_the_incoming_weights_of_every_unit(backend, kind):
    """Every parameter is blown up so that every unit exceeds the bound; after learning with a
    tiny step each unit's incoming vector has norm C, and the 1-D parameters are not rescaled."""
    build, axis_of = KINDS[kind]
    ab.seed_everything(0)
    model, n_features, labelled = build(backend, optimizer=SGD, regularizers=[backend.MaxNorm(C)])
    rng = np.random.default_rng(0)
    big = {k: v if "running" in k else rng.normal(0, 10.0, v.shape).astype(np.float32)
           for k, v in model.export_state().items()}
    model.import_state(big)
    x = rng.random((24, n_features)).astype(np.float32)
    y = rng.integers(0, 3, 24) if labelled else None
    model.learn(ArrayIterator(x, y, batch_size=8, epochs=1, seed=0), progress=False)
    state = model.export_state()
    weights = [k for k, v in state.items() if v.ndim >= 2]
    assert weights
    for name in weights:
        norms = unit_norms(state[name], axis_of(name))
        np.testing.assert_allclose(norms, C, rtol=1e-3, err_msg=f"{kind}: {name}")
    for name in set(state) - set(weights):  # biases and norm scales keep their (large) values
        if "running" not in name:
            np.testing.assert_allclose(state[name], big[name], atol=1e-2, err_msg=name)


@pytest.mark.parametrize("kind", KINDS)
def test_each_weight_is_listed_once_with_its_declared_unit_axis(backend, kind):
    build, axis_of = KINDS[kind]
    model, _, _ = build(backend)
    listed = {w.name: w.unit_axis for w in model._weight_parameters()}
    expected = {k: axis_of(k) for k, v in model.export_state().items() if v.ndim >= 2}
    assert listed == expected


def test_a_tied_weight_is_constrained_once_under_its_owner(backend):
    model = backend.ConvolutionalAutoEncoder.example(64, code_size=4, hidden=(4, 6), tied_weights=True)
    listed = {w.name: w.unit_axis for w in model._weight_parameters()}
    assert listed == {k: 0 for k, v in model.export_state().items() if v.ndim >= 2}
    assert not [k for k in listed if k.startswith("decoder.")]


def test_max_norm_rescales_slices_along_the_unit_axis(backend):
    """Units above the bound are scaled onto it (direction kept), units below are left alone;
    a bare parameter is read in the (out, in, ...) layout."""
    rng = np.random.default_rng(1)
    w = rng.normal(0, 1.0, (3, 4, 2, 2)).astype(np.float32)
    w[:, 1] *= 0.01  # output channel 1 of a transposed convolution is inside the bound
    model = backend.RestrictedBoltzmannMachines(3, 4)  # a holder of backend parameters
    param = model._weight_parameters()[0].param
    maxnorm = backend.MaxNorm(1.0)
    for axis in (0, 1):
        model.import_state(dict(model.export_state(), weight=w[:, :, 0, 0]))
        maxnorm.regularize([UnitWeights(param, axis, "weight")] if axis else [param])
        got = model.export_state()["weight"]
        norms = unit_norms(w[:, :, 0, 0], axis)
        expected = w[:, :, 0, 0] * np.expand_dims(np.minimum(1.0, 1.0 / norms), 1 - axis)
        np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert unit_norms(got, 1)[1] == pytest.approx(unit_norms(w[:, :, 0, 0], 1)[1])  # untouched
    with pytest.raises(ab.InputError, match=r"unit axis of weight \(3, 4\) must be an integer in \[0, 1\], got 2"):
        maxnorm.regularize([UnitWeights(param, 2, "weight")])
    bias = model.parameter_value("hidden_bias") if backend.__name__.endswith("torch") else model.hidden_bias
    with pytest.raises(ab.ShapeError, match=r"at least 2 dimensions; hidden_bias has shape \(4,\)"):
        maxnorm.regularize([UnitWeights(bias, 0, "hidden_bias")])
