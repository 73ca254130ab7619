"""The model families, written once and backend-neutral: hyper-parameters, checks, losses per
batch and the math that reads the same in both frameworks. ``accelbrainbase.torch`` and
``accelbrainbase.mxnet`` add only layers and ``forward`` / ``hybrid_forward``.

Imports point one way: ``core`` (the engine) <- ``models`` <- ``torch`` / ``mxnet``.
"""
