"""Each backend is native to its framework: MXNet models hybridize and export; torch models
compile."""
from __future__ import annotations

import numpy as np
import pytest

import accelbrainbase as ab


@pytest.mark.mxnet
def test_hybridized_and_imperative_outputs_agree(tiny):
    mb = pytest.importorskip("accelbrainbase.mxnet")
    from mxnet import nd

    ab.seed_everything(0)
    for model in (mb.AutoEncoder.dense([12, 6, 3], tied_weights=True),
                  mb.NeuralNetworks([12, 8, 3], batch_norm=True, dropout=0.3)):
        model.hybridize()
        hybrid = model(nd.array(tiny[0])).asnumpy()
        model.hybridize(active=False)
        imperative = model(nd.array(tiny[0])).asnumpy()
        np.testing.assert_allclose(hybrid, imperative, atol=1e-6)


@pytest.mark.mxnet
def test_export_loads_back_as_a_symbol_block(tiny, tmp_path):
    mb = pytest.importorskip("accelbrainbase.mxnet")
    from mxnet import gluon, nd

    ab.seed_everything(0)
    model = mb.AutoEncoder.example(12, code_size=4, hidden=(8,), tied_weights=True)
    model.hybridize()
    expected = model(nd.array(tiny[0])).asnumpy()
    model.export(str(tmp_path / "ae"))
    block = gluon.SymbolBlock.imports(str(tmp_path / "ae-symbol.json"), ["data"],
                                      str(tmp_path / "ae-0000.params"))
    np.testing.assert_allclose(block(nd.array(tiny[0])).asnumpy(), expected, atol=1e-6)


@pytest.mark.slow
def test_torch_compile_gives_the_same_outputs(tiny):
    tb = pytest.importorskip("accelbrainbase.torch")
    import torch

    ab.seed_everything(0)
    model = tb.AutoEncoder.dense([12, 6, 3], tied_weights=True).eval()
    x = torch.from_numpy(tiny[0])
    try:
        compiled = torch.compile(model)
        out = compiled(x)
    except Exception as exc:  # a platform without a working compiler tool-chain
        pytest.skip(f"torch.compile is not supported here: {exc!r}"[:200])
    np.testing.assert_allclose(out.detach().numpy(), model(x).detach().numpy(), atol=1e-5)


def test_torch_export_traces_the_model(tiny):
    tb = pytest.importorskip("accelbrainbase.torch")
    import torch

    ab.seed_everything(0)
    model = tb.NeuralNetworks([12, 8, 3], batch_norm=True).eval()
    x = torch.from_numpy(tiny[0])
    program = torch.export.export(model, (x,))
    np.testing.assert_allclose(program.module()(x).detach().numpy(), model(x).detach().numpy(), atol=1e-6)
