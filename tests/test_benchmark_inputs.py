"""tools/benchmark.py with trained weights (``--checkpoint``) and a real image (``--image``) for detectors.

Oracles: the demo RetinaNet's own config (its score threshold and ``max_per_img``), a classifier bias that makes
every anchor score ~1, and an image normalised here with OpenCV and the config's mean / std.
"""
import json

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from tool_runs import REPO, RETINANET_DEMO, run

BENCHMARK = REPO / 'tools' / 'benchmark.py'

DEMO = 'RetinaNet demo'
DEMO_CONFIG = Config.fromfile(RETINANET_DEMO)


def build_demo() -> torch.nn.Module:
    from mmdet_ghostnet.benchmark.models import SPECS_BY_NAME, build_model
    return build_model(SPECS_BY_NAME[DEMO])


@pytest.fixture(scope='module')
def saturated_checkpoint(tmp_path_factory):
    """The demo RetinaNet with its classifier biased so that every anchor of every class scores ~1: once
    loaded, ``predict`` returns ``max_per_img`` boxes per image (random init: none pass the score threshold)."""
    model = build_demo()
    torch.nn.init.constant_(model.bbox_head.retina_cls.bias, 10.0)
    path = tmp_path_factory.mktemp('weights') / 'saturated.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=1)), path)
    return path


def test_checkpoint_weights_are_loaded_into_the_row_and_its_deploy_row(saturated_checkpoint, tmp_path):
    out = tmp_path / 'report.json'
    result = run(BENCHMARK, '--parts', 'detector', '--models', DEMO, '--sizes', '256x256', '--batch-sizes', '1',
                 '--modes', 'inference', '--repeats', '1', '--warmup', '0', '--threads', '1',
                 '--checkpoint', f'{DEMO}={saturated_checkpoint}', '--out', out)
    assert f'trained: {DEMO} <- {saturated_checkpoint}' in result.stdout
    rows = {row['model']: row for row in json.loads(out.read_text())['rows']}
    assert set(rows) == {DEMO, f'{DEMO} deploy'}
    for row in rows.values():
        assert row['checkpoint'] == str(saturated_checkpoint)
        assert row['detections_per_image'] == DEMO_CONFIG.model.test_cfg.max_per_img


def test_random_weights_detect_nothing_above_the_score_threshold():
    """The counter-check of the test above: RetinaNet's prior (0.01) is below the config's score_thr."""
    from mmdet_ghostnet.benchmark.measure import Job, Settings, measure_run
    assert DEMO_CONFIG.model.test_cfg.score_thr > 0.01
    row = measure_run(Job(DEMO, (256, 256), 1, 'inference'), Settings('cpu', 1, 0, 1, False))
    assert row['detections_per_image'] == 0 and row['two_stage'] is False


def test_two_stage_detector_rows_say_so():
    """An RPN chooses what a two-stage detector's RoI head computes: its rows are marked (tools/accuracy_report.py
    then shows their cost only with trained weights)."""
    from mmdet_ghostnet.benchmark.measure import Job, Settings, measure_run
    row = measure_run(Job('Faster R-CNN demo', (256, 256), 1, 'inference'), Settings('cpu', 1, 0, 1, False))
    assert row['two_stage'] is True


def test_a_checkpoint_of_another_model_is_refused_with_its_keys(saturated_checkpoint, tmp_path):
    from mmdet_ghostnet.benchmark.models import SPECS_BY_NAME, build_model
    state = torch.load(saturated_checkpoint, weights_only=True)['state_dict']
    del state['bbox_head.retina_cls.bias']
    truncated = tmp_path / 'truncated.pth'
    torch.save(dict(state_dict=state), truncated)
    with pytest.raises(ValueError, match=r"belongs to another model: 1 missing keys \['bbox_head.retina_cls.bias'\]"):
        build_model(SPECS_BY_NAME[DEMO], str(truncated))


def test_image_input_is_resized_and_normalised_as_the_config_says(tmp_path):
    from mmdet_ghostnet.benchmark.workloads import WORKLOADS
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(90, 150, 3), dtype=np.uint8)
    path = tmp_path / 'image.png'
    cv2.imwrite(str(path), image)
    size = (60, 100)  # H, W: padded to 64 x 128
    pixels, samples = WORKLOADS['detector'].inputs(build_demo(), size, 2, torch.device('cpu'), str(path))

    preprocessor = DEMO_CONFIG.model.data_preprocessor
    resized = cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    if preprocessor.get('bgr_to_rgb'):
        resized = resized[..., ::-1]
    expected = np.zeros((64, 128, 3), np.float32)
    expected[:size[0], :size[1]] = (resized - preprocessor.mean) / preprocessor.std
    assert pixels.shape == (2, 3, 64, 128)
    for sample_pixels in pixels:
        np.testing.assert_allclose(sample_pixels.permute(1, 2, 0).numpy(), expected, atol=1e-5)
    assert [sample.batch_input_shape for sample in samples] == [(64, 128)] * 2
    assert [sample.img_shape for sample in samples] == [size] * 2
