"""tools/paint_detections.py on a short run of the demo config: one painted image per input, ground truth beside."""
import cv2
import pytest

from tool_runs import REPO, RETINANET_DEMO, run, tiny_run_options

PAINT = REPO / 'tools' / 'paint_detections.py'


@pytest.fixture(scope='module')
def checkpoint(tiny_data, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('paint_train')
    options = tiny_run_options(tiny_data, 'model.test_cfg.score_thr') + ['train_cfg.val_interval=2']
    run(REPO / 'tools' / 'train.py', RETINANET_DEMO, '--work-dir', work_dir, '--cfg-options', *options)
    return work_dir / 'epoch_1.pth'


def test_folder_is_painted_with_ground_truth_beside_and_stacked(tiny_data, checkpoint, tmp_path):
    images = sorted((tiny_data / 'val').glob('*.png')) + sorted((tiny_data / 'val').glob('*.jpg'))
    out_dir = tmp_path / 'painted'
    # The demo config's val split is tiny_data/val only after pointing its data_root there.
    result = run(PAINT, RETINANET_DEMO, checkpoint, tiny_data / 'val', '--out-dir', out_dir, '--score-thr', '0',
                 '--gt-split', 'val', '--montage', tmp_path / 'montage.jpg', '--cfg-options',
                 f'val_dataloader.dataset.data_root={tiny_data}/', 'model.test_cfg.score_thr=0.0')
    assert f'painted {len(images)} images' in result.stdout
    rows = 0
    for image in images:
        original = cv2.imread(str(image))
        painted = cv2.imread(str(out_dir / image.name))
        height, width = original.shape[:2]
        assert painted.shape == (height, 2 * width, 3)  # ground truth left, detections right
        assert (painted[:, :width] != original).any() and (painted[:, width:] != original).any()
        rows += round(height * 960 / (2 * width))
    montage = cv2.imread(str(tmp_path / 'montage.jpg'))
    assert montage.shape == (rows, 960, 3)


def test_single_image_outside_the_split_gets_detections_only(tiny_data, checkpoint, tmp_path):
    image = sorted((tiny_data / 'train').iterdir())[0]
    run(PAINT, RETINANET_DEMO, checkpoint, image, '--out-dir', tmp_path, '--score-thr', '0', '--cfg-options',
        'model.test_cfg.score_thr=0.0')
    painted, original = cv2.imread(str(tmp_path / image.name)), cv2.imread(str(image))
    assert painted.shape == original.shape and (painted != original).any()


@pytest.mark.parametrize('bad, message', [
    (['--score-thr', '1.5'], "--score-thr=1.5 is invalid"),
    (['--montage', 'x.png'], "--montage='x.png' is invalid"),
])
def test_bad_options_are_refused(tiny_data, checkpoint, bad, message):
    result = run(PAINT, RETINANET_DEMO, checkpoint, tiny_data / 'val', *bad, expect_ok=False)
    assert result.returncode == 2 and message in result.stderr


def test_inputs_that_are_not_images_are_refused_by_name(tiny_data, checkpoint, tmp_path):
    text = tmp_path / 'notes.txt'
    text.write_text('not an image')
    for bad, message in [(text, f"input '{text}' is not an image"),
                         (tmp_path / 'missing', 'is neither an image file nor a folder'),
                         (tmp_path / 'empty_dir', 'hold no image')]:
        if bad.name == 'empty_dir':
            bad.mkdir()
        result = run(PAINT, RETINANET_DEMO, checkpoint, bad, expect_ok=False)
        assert result.returncode == 2 and message in result.stderr, result.stderr[-500:]


def test_ground_truth_split_missing_from_the_config_is_named(checkpoint, tmp_path):
    from mmdet_ghostnet.utils.paint import paint_detections
    with pytest.raises(ValueError, match=r"--gt-split='extra' is invalid: the config has no extra_dataloader"):
        paint_detections(str(RETINANET_DEMO), str(checkpoint), [], str(tmp_path), gt_split='extra')
