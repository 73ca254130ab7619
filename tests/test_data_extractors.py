import gzip

import numpy as np
import pytest

from accelbrainbase.core.errors import InputError, MissingDependencyError, ShapeError
from accelbrainbase.data import CSVExtractor, CSVIterator, ImageExtractor, ImageFolderIterator

Image = pytest.importorskip("PIL.Image")


def write(path, text):
    path.write_text(text)
    return path


# ---------------------------------------------------------------- CSV

def test_csv_unlabelled_with_and_without_header(tmp_path):
    headed = write(tmp_path / "a.csv", "f1,f2,f3\n1,2,3\n4,5,6\n")
    bare = write(tmp_path / "b.csv", "1,2,3\n4,5,6\n")
    for path in (headed, bare):
        x = CSVExtractor().extract(path)
        assert x.dtype == np.float32
        np.testing.assert_array_equal(x, [[1, 2, 3], [4, 5, 6]])
    semi = write(tmp_path / "c.csv", "1;2\n3;4\n")
    np.testing.assert_array_equal(CSVExtractor(delimiter=";").extract(semi), [[1, 2], [3, 4]])


def test_csv_gz_and_labelled_by_position_or_name(tmp_path):
    path = tmp_path / "d.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("a,label,b\n0.5,1,2\n1.5,0,3\n2.5,2,4\n")
    for column in (1, -2, "label"):
        x, y = CSVExtractor(label_column=column).extract_labeled(path)
        np.testing.assert_array_equal(x, [[0.5, 2], [1.5, 3], [2.5, 4]])
        np.testing.assert_array_equal(y, [1, 0, 2])
        assert x.dtype == np.float32 and y.dtype == np.int64
    _, target = CSVExtractor(label_column="a").extract_labeled(path)
    assert target.dtype == np.float32  # non-integral values are regression targets


def test_csv_string_labels_mapped_to_sorted_classes(tmp_path):
    train = write(tmp_path / "train.csv", "x1,x2,kind\n1,2,dog\n3,4,cat\n5,6,dog\n7,8,bird\n")
    test = write(tmp_path / "test.csv", "x1,x2,kind\n1,1,dog\n2,2,dog\n")
    ex = CSVExtractor(label_column=-1)
    _, y = ex.extract_labeled(train)
    assert ex.classes_ == ["bird", "cat", "dog"]
    np.testing.assert_array_equal(y, [2, 1, 2, 0])
    it = CSVIterator(train, label_column="kind", test_path=test, batch_size=2, seed=0)
    assert it.classes_ == ["bird", "cat", "dog"] and it.has_labels and it.has_test
    np.testing.assert_array_equal(it.y_test, [2, 2])  # test file mapped with the training classes
    bad = write(tmp_path / "bad.csv", "x1,x2,kind\n1,1,cow\n")
    with pytest.raises(InputError, match="unknown label 'cow'.*known classes: bird, cat, dog"):
        ex.extract_labeled(bad, classes=ex.classes_)


def test_csv_errors_name_the_problem(tmp_path):
    path = write(tmp_path / "e.csv", "a,b,c\n1,2,3\n4,5,6\n")
    with pytest.raises(InputError, match="unknown label column 'z'; columns: a, b, c"):
        CSVExtractor(label_column="z").extract_labeled(path)
    with pytest.raises(InputError, match="out of range"):
        CSVExtractor(label_column=5).extract_labeled(path)
    nan = write(tmp_path / "nan.csv", "a,b\n1,2\n3,\n")
    with pytest.raises(InputError, match="data row 1.*column 'b'"):
        CSVExtractor().extract(nan)
    text = write(tmp_path / "t.csv", "a,b\n1,x\n2,y\n")
    with pytest.raises(InputError, match="column 'b'.*must be numeric.*'x'"):
        CSVExtractor().extract(text)
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        CSVExtractor().extract(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="label_column"):
        CSVExtractor().extract_labeled(path)


def test_csv_iterator_splits_and_batches(tmp_path):
    rows = "\n".join(f"{i},{i * 2},{i % 2}" for i in range(20))
    path = write(tmp_path / "f.csv", rows + "\n")
    it = CSVIterator(path, label_column=-1, test_size=0.2, batch_size=5, seed=0)
    assert (it.n_train, it.n_test, it.sample_shape) == (16, 4, (2,))
    np.testing.assert_array_equal(np.bincount(it.y_test), [2, 2])
    batches = list(it.generate_learned_samples())
    assert [len(b.clean) for b in batches] == [5, 5, 5, 1]
    unlabelled = CSVIterator(path, batch_size=5)
    assert unlabelled.sample_shape == (3,) and not unlabelled.has_labels


# ---------------------------------------------------------------- images

def make_folder(root, classes=("cat", "dog"), per_class=3, size=(6, 5), mode="L"):
    rng = np.random.default_rng(0)
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            shape = size if mode == "L" else size + (3,)
            pixels = rng.integers(0, 256, size=shape, dtype=np.uint8)
            pixels.flat[0] = 100 * c  # marks the class
            Image.fromarray(pixels, mode).save(root / name / f"{i}.png")
    return root


def test_image_file_and_folder_shapes(tmp_path):
    root = make_folder(tmp_path / "imgs", mode="RGB")
    one = ImageExtractor().extract(root / "cat" / "0.png")
    assert one.shape == (1, 6, 5) and one.dtype == np.float32
    assert 0 <= one.min() and one.max() <= 1
    rgb = ImageExtractor(mode="RGB").extract(root / "dog")
    assert rgb.shape == (3, 3, 6, 5)
    np.testing.assert_allclose(
        rgb[0].transpose(1, 2, 0) * 255, np.asarray(Image.open(root / "dog" / "0.png")), atol=1e-3
    )
    resized = ImageExtractor(size=(4, 7)).extract(root / "dog")
    assert resized.shape == (3, 1, 4, 7)


def test_extract_folder_labels_and_class_names(tmp_path):
    root = make_folder(tmp_path / "imgs", classes=("b", "a", "c"), per_class=2)
    x, y, names = ImageExtractor().extract_folder(root)
    assert names == ["a", "b", "c"] and x.shape == (6, 1, 6, 5)
    np.testing.assert_array_equal(y, [0, 0, 1, 1, 2, 2])
    assert y.dtype == np.int64


def test_image_errors(tmp_path):
    (tmp_path / "mixed").mkdir()
    Image.new("L", (4, 4)).save(tmp_path / "mixed" / "a.png")
    Image.new("L", (5, 4)).save(tmp_path / "mixed" / "b.png")
    with pytest.raises(ShapeError, match="a.png is \\(4, 4\\) but b.png is \\(4, 5\\).*size="):
        ImageExtractor().extract(tmp_path / "mixed")
    assert ImageExtractor(size=(3, 3)).extract(tmp_path / "mixed").shape == (2, 1, 3, 3)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no images"):
        ImageExtractor().extract(tmp_path / "empty")
    with pytest.raises(InputError, match="no sub-folders"):
        ImageExtractor().extract_folder(tmp_path / "mixed")
    with pytest.raises(InputError, match="valid: L, RGB"):
        ImageExtractor(mode="CMYK")


def test_missing_pillow_names_the_package(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "PIL" else real(name, *a))
    with pytest.raises(MissingDependencyError, match="pip install pillow"):
        ImageExtractor().extract(tmp_path)


def test_image_folder_iterator(tmp_path):
    root = make_folder(tmp_path / "train", per_class=4)
    test_root = make_folder(tmp_path / "test", classes=("dog",), per_class=2)
    it = ImageFolderIterator(root, size=(8, 8), test_root=test_root, batch_size=3, seed=0)
    assert it.sample_shape == (1, 8, 8) and it.classes_ == ["cat", "dog"]
    assert it.n_train == 8 and len(it) == 3
    np.testing.assert_array_equal(it.y_test, [1, 1])  # "dog" is class 1 of the training folders
    np.testing.assert_allclose(it.x_train.min(axis=0), 0)
    np.testing.assert_allclose(it.x_train.max(axis=0), 1)
    z = ImageFolderIterator(root, size=(8, 8), normalize="zscore")
    np.testing.assert_allclose(z.x_train.mean(axis=0), 0, atol=1e-5)
    rgb = ImageFolderIterator(root, size=(8, 8), mode="RGB", normalize=None)
    assert rgb.sample_shape == (3, 8, 8)
    flat = ImageFolderIterator(root / "cat", size=None, labels=False, normalize=None)
    assert flat.sample_shape == (1, 6, 5) and not flat.has_labels and flat.n_train == 4
    assert 0 <= flat.x_train.min() and flat.x_train.max() <= 1
