"""Every documented bad input raises one NasError that names the file (or the accepted specs)."""

from __future__ import annotations

import numpy as np
import pytest

from nas.data import load_data
from nas.errors import NasError


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_missing_mask_names_the_image(tmp_path, tiny):
    root = tiny.camvid_layout(tmp_path / "cv", n=2)
    (root / "trainannot" / "f1.png").unlink()
    with pytest.raises(NasError) as exc:
        load_data(f"camvid:{root}", "train")
    msg = _one_line(exc)
    assert "no mask" in msg and str(root / "train" / "f1.png") in msg


def test_missing_mask_folder_layout(tmp_path, tiny):
    tiny.write_image(tmp_path / "img" / "x.png", 8, 8)
    (tmp_path / "msk").mkdir()
    with pytest.raises(NasError) as exc:
        load_data(f"folder:{tmp_path / 'img'},{tmp_path / 'msk'}", "train")
    assert "x.png" in _one_line(exc)


def test_size_mismatch_names_both_files(tmp_path, tiny):
    root = tiny.camvid_layout(tmp_path / "cv", n=2)
    tiny.write_mask(root / "trainannot" / "f1.png", np.zeros((10, 12)))
    with pytest.raises(NasError) as exc:
        load_data(f"camvid:{root}", "train")
    msg = _one_line(exc)
    assert "size mismatch" in msg and "f1.png" in msg and "10x12" in msg


@pytest.mark.parametrize("bad", [12, 254])
def test_label_outside_classes_names_the_mask(tmp_path, tiny, bad):
    root = tiny.camvid_layout(tmp_path / "cv", n=2)
    tiny.write_mask(root / "trainannot" / "f0.png", tiny.labels(36, 48, [0, bad]))
    with pytest.raises(NasError) as exc:
        load_data(f"camvid:{root}", "train")
    msg = _one_line(exc)
    assert str(root / "trainannot" / "f0.png") in msg and str(bad) in msg


def test_label_outside_declared_folder_classes(tmp_path, tiny):
    tiny.write_image(tmp_path / "img" / "x.png", 8, 8)
    tiny.write_mask(tmp_path / "msk" / "x.png", tiny.labels(8, 8, [0, 5, 255]))
    spec = f"folder:{tmp_path / 'img'},{tmp_path / 'msk'}"
    assert load_data(spec, "train").num_classes == 6
    with pytest.raises(NasError) as exc:
        load_data(spec, "train", num_classes=4)
    assert "x.png" in _one_line(exc) and "[5]" in str(exc.value)


def test_cityscapes_bad_label_id(tmp_path, tiny):
    root = tmp_path / "cs"
    tiny.write_image(root / "leftImg8bit" / "val" / "c" / "c_0_0_leftImg8bit.png", 8, 8)
    tiny.write_mask(root / "gtFine" / "val" / "c" / "c_0_0_gtFine_labelIds.png",
                    tiny.labels(8, 8, [7, 40]))
    with pytest.raises(NasError) as exc:
        load_data(f"cityscapes:{root}", "val")
    assert "c_0_0_gtFine_labelIds.png" in _one_line(exc)


def test_empty_split_names_the_folder(tmp_path):
    root = tmp_path / "cv"
    (root / "val").mkdir(parents=True)
    (root / "valannot").mkdir()
    with pytest.raises(NasError) as exc:
        load_data(f"camvid:{root}", "val")
    msg = _one_line(exc)
    assert "empty split" in msg and str(root / "val") in msg


def test_empty_voc_list(tmp_path):
    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (tmp_path / sub).mkdir(parents=True)
    (tmp_path / "ImageSets" / "Segmentation" / "train.txt").write_text("\n")
    with pytest.raises(NasError) as exc:
        load_data(f"voc:{tmp_path}", "train")
    assert "train.txt" in _one_line(exc) and "empty split" in str(exc.value)


def test_unknown_spec_lists_accepted():
    with pytest.raises(NasError) as exc:
        load_data("kitti:/data", "train")
    msg = _one_line(exc)
    assert "kitti" in msg
    for kind in ("synthetic", "camvid:", "ade20k:", "cityscapes:", "voc:", "folder:"):
        assert kind in msg


@pytest.mark.parametrize("kind", ["camvid", "ade20k", "cityscapes", "voc"])
def test_missing_folder_names_it(tmp_path, kind):
    missing = tmp_path / "nowhere"
    with pytest.raises(NasError) as exc:
        load_data(f"{kind}:{missing}", "train")
    assert str(missing) in _one_line(exc) and "does not exist" in str(exc.value)


def test_missing_split_folder(tmp_path, tiny):
    root = tiny.camvid_layout(tmp_path / "cv", n=1)
    with pytest.raises(NasError) as exc:
        load_data(f"camvid:{root}", "test")
    assert str(root / "test") in _one_line(exc)


def test_other_bad_specs(tmp_path, tiny):
    with pytest.raises(NasError, match="needs a path"):
        load_data("camvid", "train")
    with pytest.raises(NasError, match="IMAGES,MASKS"):
        load_data(f"folder:{tmp_path}", "train")
    with pytest.raises(NasError, match="unknown split"):
        load_data(f"camvid:{tiny.camvid_layout(tmp_path / 'cv', n=1)}", "holdout")
    with pytest.raises(NasError, match="unknown option"):
        load_data("synthetic:colour=3", "train")
    with pytest.raises(NasError, match="integer"):
        load_data("synthetic:many", "train")


def test_rgb_mask_and_unreadable_image(tmp_path, tiny):
    root = tiny.camvid_layout(tmp_path / "cv", n=1)
    tiny.write_image(root / "trainannot" / "f0.png", 36, 48)  # an RGB "mask"
    with pytest.raises(NasError) as exc:
        load_data(f"camvid:{root}", "train")
    assert "single-channel" in _one_line(exc) and "f0.png" in str(exc.value)
    root2 = tiny.camvid_layout(tmp_path / "cv2", n=1)
    (root2 / "train" / "f0.png").write_bytes(b"not an image")
    with pytest.raises(NasError) as exc:
        load_data(f"camvid:{root2}", "train")
    assert "cannot read image" in _one_line(exc) and "f0.png" in str(exc.value)
