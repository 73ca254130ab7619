"""Backend-neutral data layer (NumPy only): extractors, noise, normalisation, iterators and
real data sets shipped inside installed packages. pandas, Pillow and scikit-learn are imported
only when a function needs them."""
from accelbrainbase.data.datasets import (
    DATASETS, FASHION_MNIST_CLASSES, Dataset, load_dataset, load_digits, load_fashion_mnist, load_mnist5k,
)
from accelbrainbase.data.extractors import CSVExtractor, ImageExtractor
from accelbrainbase.data.iterators import ArrayIterator, CSVIterator, ImageFolderIterator
from accelbrainbase.data.noise import CutoutNoise, GaussianNoise, MaskingNoise, SaltAndPepperNoise
from accelbrainbase.data.normalization import Normalizer
from accelbrainbase.data.sequence_datasets import (
    SEQUENCE_DATASETS, SequenceDataset, load_ecg5000, load_sequence_dataset, load_synthetic, make_periodic_anomalies,
)
from accelbrainbase.data.samplers import (
    ConditionSampler, LabeledTrueSampler, MixtureOfGaussiansSampler, NormalNoiseSampler, NormalTrueSampler,
    TrueSampler, UniformNoiseSampler,
)
from accelbrainbase.data.semisupervised import UNLABELLED, SemiSupervisedIterator, split_labelled
from accelbrainbase.data.sequences import WindowIterator, sliding_windows
from accelbrainbase.data.synthetic import RingDataset, load_ring, ring_centers

__all__ = [
    "ConditionSampler",
    "LabeledTrueSampler",
    "MixtureOfGaussiansSampler",
    "NormalNoiseSampler",
    "NormalTrueSampler",
    "TrueSampler",
    "UniformNoiseSampler",
    "UNLABELLED",
    "SemiSupervisedIterator",
    "split_labelled",
    "WindowIterator",
    "sliding_windows",
    "SequenceDataset",
    "SEQUENCE_DATASETS",
    "load_ecg5000",
    "load_synthetic",
    "load_sequence_dataset",
    "make_periodic_anomalies",
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
    "load_fashion_mnist",
    "FASHION_MNIST_CLASSES",
    "load_dataset",
    "DATASETS",
    "RingDataset",
    "load_ring",
    "ring_centers",
]
