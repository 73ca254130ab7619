"""Backend-neutral data layer (NumPy only): extractors, noise, normalisation, iterators and
real data sets shipped inside installed packages. pandas, Pillow and scikit-learn are imported
only when a function needs them."""
from accelbrainbase.data.datasets import DATASETS, Dataset, load_dataset, load_digits, load_mnist5k
from accelbrainbase.data.extractors import CSVExtractor, ImageExtractor
from accelbrainbase.data.iterators import ArrayIterator, CSVIterator, ImageFolderIterator
from accelbrainbase.data.noise import CutoutNoise, GaussianNoise, MaskingNoise, SaltAndPepperNoise
from accelbrainbase.data.normalization import Normalizer

__all__ = [
    "ArrayIterator",
    "CSVIterator",
    "ImageFolderIterator",
    "CSVExtractor",
    "ImageExtractor",
    "GaussianNoise",
    "MaskingNoise",
    "SaltAndPepperNoise",
    "CutoutNoise",
    "Normalizer",
    "Dataset",
    "load_digits",
    "load_mnist5k",
    "load_dataset",
    "DATASETS",
]
