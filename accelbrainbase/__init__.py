"""accelbrainbase: compose deep-learning systems from functionally equivalent parts and compare them.

Importing this package imports neither torch nor mxnet; use ``accelbrainbase.torch`` or
``accelbrainbase.mxnet`` for the models.
"""
from accelbrainbase.core.callbacks import (
    Callback, CSVLogger, EarlyStopping, ModelCheckpoint, ProgressBar,
)
from accelbrainbase.core.errors import (
    DivergenceError, InputError, MissingDependencyError, NotFittedError, ShapeError,
)
from accelbrainbase.core.interfaces import (
    Batch, ComputableLoss, ControllableModel, ExtractableData, IteratableData, NoiseableData,
    ObservableData, RegularizatableData, SamplableData,
)
from accelbrainbase.core.optim import OptimizerSpec
from accelbrainbase.core.persistence import load_model as load
from accelbrainbase.core.seeding import seed_everything

__version__ = "0.1.0"

__all__ = [
    "Batch", "CSVLogger", "Callback", "ComputableLoss", "ControllableModel", "DivergenceError",
    "EarlyStopping", "ExtractableData", "InputError", "IteratableData", "MissingDependencyError",
    "ModelCheckpoint", "NoiseableData", "NotFittedError", "ObservableData", "OptimizerSpec",
    "ProgressBar", "RegularizatableData", "SamplableData", "ShapeError", "__version__", "load",
    "seed_everything",
]
