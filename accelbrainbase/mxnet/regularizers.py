"""Post-update constraints as :class:`RegularizatableData` (MXNet)."""
from __future__ import annotations

from mxnet import nd

from accelbrainbase.core.regularizers import MaxNormBase


class MaxNorm(MaxNormBase):
    """Rescale each unit's incoming weight vector to L2 norm at most ``max_norm`` (Srivastava et
    al. 2014, "Dropout", section 5.1)."""

    def regularize(self, params):
        for param in params:
            weight = param.data()
            flat = weight.reshape((weight.shape[0], -1))
            norms = nd.sqrt(nd.sum(nd.square(flat), axis=1, keepdims=True))
            scale = nd.minimum(self.max_norm / (norms + 1e-12), nd.ones_like(norms))
            param.set_data(nd.broadcast_mul(flat, scale).reshape(weight.shape))
