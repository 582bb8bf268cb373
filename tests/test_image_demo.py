"""tools/image_demo.py and mmdet_ghostnet.apis: the zoo's detectors on pictures that are not BCCD's, of any size,
with no dataset on disk. The oracle: the sizes of the pictures drawn here, the zoo's names (checkpoints/metafile.yml)
and BCCD's three classes."""
import importlib.util
import json
import sys

import cv2
import numpy as np
import pytest
import torch
import yaml

from tool_runs import REPO, run

DEMO = REPO / 'tools' / 'image_demo.py'
NAMES = [model['Name'] for model in yaml.safe_load((REPO / 'checkpoints' / 'metafile.yml').read_text())['Models']]
RECOMMENDED = 'rtmdet-nano_ghostnet-1.0x_ghostpan_guided-1xb2-36e_bccd'
CLASSES = ['RBC', 'WBC', 'Platelets']
SCORE_THR = 0.2


def street(width: int, height: int) -> np.ndarray:
    """A street-like scene: sky, road, houses with windows, cars with wheels, a sun."""
    image = np.full((height, width, 3), (235, 206, 135), np.uint8)  # BGR sky
    cv2.rectangle(image, (0, height * 2 // 3), (width, height), (90, 90, 90), -1)
    for x in range(0, width, width // 5):
        cv2.rectangle(image, (x + 10, height // 4), (x + width // 6, height * 2 // 3), (60, 80, 160), -1)
        cv2.rectangle(image, (x + 30, height // 3), (x + 60, height // 3 + 40), (200, 230, 250), -1)
    for x in range(width // 10, width, width // 3):
        cv2.rectangle(image, (x, height * 3 // 4), (x + width // 6, height * 3 // 4 + height // 10), (30, 30, 200), -1)
        for wheel in (x + width // 30, x + width // 6 - width // 30):
            cv2.circle(image, (wheel, height * 3 // 4 + height // 10), height // 30, (20, 20, 20), -1)
    cv2.circle(image, (width * 5 // 6, height // 8), height // 12, (0, 220, 255), -1)
    return image


def blobs(width: int, height: int) -> np.ndarray:
    """Pink and purple discs of a few sizes on a pale background: a cartoon of a blood smear."""
    image = np.full((height, width, 3), (215, 220, 235), np.uint8)
    rng = np.random.default_rng(0)
    for _ in range(12):
        center = (int(rng.integers(20, width - 20)), int(rng.integers(20, height - 20)))
        cv2.circle(image, center, int(rng.integers(8, 30)), (150, 110, 220) if rng.random() < 0.8 else (160, 60, 120),
                   -1)
    return image


@pytest.fixture(scope='module')
def no_dataset(tmp_path_factory):
    """BCCD_ROOT pointing at a folder that does not exist (as for a user without the dataset)."""
    missing = tmp_path_factory.mktemp('nothing') / 'bccd'
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv('BCCD_ROOT', f'{missing}/')
        yield missing
    assert not missing.exists()


@pytest.fixture(scope='module')
def pictures(tmp_path_factory):
    folder = tmp_path_factory.mktemp('pictures')
    cv2.imwrite(str(folder / 'street.jpg'), street(1000, 700))
    cv2.imwrite(str(folder / 'blobs.png'), blobs(320, 240))
    return {'street.jpg': (700, 1000), 'blobs.png': (240, 320)}, folder


@pytest.fixture(scope='module')
def demo_run(no_dataset, pictures, tmp_path_factory):
    """The tool with its defaults (the recommended model) on the folder of both pictures."""
    _, folder = pictures
    out_dir = tmp_path_factory.mktemp('outputs')
    result = run(DEMO, folder, '--out-dir', out_dir, '--pred-score-thr', SCORE_THR)
    return result, out_dir


def predictions(out_dir, name: str) -> dict:
    """The tool's JSON file for image ``name``."""
    return json.loads((out_dir / 'preds' / f'{name.rsplit(".", 1)[0]}.json').read_text())


def test_painted_images_have_the_inputs_size(pictures, demo_run):
    sizes, folder = pictures
    result, out_dir = demo_run
    for name, size in sizes.items():
        painted, original = cv2.imread(str(out_dir / 'vis' / name)), cv2.imread(str(folder / name))
        assert painted.shape == (*size, 3)
        boxes = len(predictions(out_dir, name)['bboxes'])
        if boxes:  # painted lines, not JPEG's re-encoding noise (at most ~40 levels)
            assert (np.abs(painted.astype(int) - original).max(axis=2) > 100).any()
        assert f'{name}: {boxes} boxes scoring above {SCORE_THR}' in result.stdout
    assert f'painted images: {out_dir / "vis"}' in result.stdout


def test_predictions_are_boxes_inside_the_image_above_the_threshold(pictures, demo_run):
    sizes, _ = pictures
    _, out_dir = demo_run
    total = 0
    for name, (height, width) in sizes.items():
        found = predictions(out_dir, name)
        assert found['classes'] == CLASSES
        boxes = np.array(found['bboxes']).reshape(-1, 4)
        assert len(boxes) == len(found['scores']) == len(found['labels']) == len(found['label_names'])
        assert (boxes >= 0).all() and (boxes[:, [0, 2]] <= width).all() and (boxes[:, [1, 3]] <= height).all()
        assert (boxes[:, 2:] >= boxes[:, :2]).all()
        assert all(SCORE_THR < score <= 1 for score in found['scores'])
        assert [CLASSES[label] for label in found['labels']] == found['label_names']
        total += len(boxes)
    assert total > 0  # the checks above looked at something


@pytest.mark.parametrize('name', [name for name in NAMES if name != RECOMMENDED])
def test_every_zoo_model_runs_by_name(no_dataset, pictures, name, tmp_path):
    _, folder = pictures
    result = run(DEMO, folder / 'blobs.png', '--model', name, '--out-dir', tmp_path, '--pred-score-thr', SCORE_THR)
    assert cv2.imread(str(tmp_path / 'vis' / 'blobs.png')).shape == (240, 320, 3)
    assert predictions(tmp_path, 'blobs.png')['classes'] == CLASSES
    assert 'blobs.png:' in result.stdout


def test_python_zoo_inferencer_finds_the_tools_boxes(no_dataset, pictures, demo_run):
    from mmdet_ghostnet.apis import kept_detections, zoo_inferencer
    _, folder = pictures
    _, out_dir = demo_run
    inferencer = zoo_inferencer(show_progress=False)
    assert inferencer.model.dataset_meta['classes'] == tuple(CLASSES)
    prediction = inferencer(str(folder / 'street.jpg'), pred_score_thr=SCORE_THR)['predictions'][0]
    ours, tools = kept_detections(prediction, CLASSES, SCORE_THR), predictions(out_dir, 'street.jpg')
    assert ours['labels'] == tools['labels']
    np.testing.assert_allclose(ours['bboxes'], tools['bboxes'], atol=0.01)
    np.testing.assert_allclose(ours['scores'], tools['scores'], atol=1e-4)


def test_config_and_weights_without_class_names_get_the_configs_names(no_dataset, pictures, tmp_path):
    from mmdet_ghostnet.apis import shipped_model
    _, folder = pictures
    config, weights = shipped_model()
    bare = tmp_path / 'bare.pth'
    torch.save(dict(state_dict=torch.load(weights, weights_only=True)['state_dict']), bare)
    result = run(DEMO, folder / 'blobs.png', '--config', config, '--weights', bare, '--out-dir', tmp_path,
                 '--pred-score-thr', SCORE_THR)
    found = predictions(tmp_path, 'blobs.png')
    assert found['classes'] == CLASSES and found['label_names']  # not COCO's names, DetInferencer's fallback
    assert 'COCO classes' not in result.stderr


@pytest.fixture(scope='module')
def demo_tool():
    """tools/image_demo.py as a module, to check its command line in this process (no interpreter start per case)."""
    spec = importlib.util.spec_from_file_location('image_demo', DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('args, message', [
    (['FOLDER', '--model', 'nosuch'], "argument --model: invalid choice: 'nosuch' (choose from"),
    (['MISSING'], "input 'MISSING' is neither an image file nor a folder"),
    (['EMPTY'], "inputs=['EMPTY'] hold no image"),
    (['FOLDER', '--pred-score-thr', '1.5'], '--pred-score-thr=1.5 is invalid: it must be in [0, 1]'),
    (['FOLDER', '--pred-score-thr', 'high'], "argument --pred-score-thr: invalid float value: 'high'"),
    (['FOLDER', '--weights', 'x.pth'], '--config and --weights go together'),
    (['FOLDER', 'COPY'], "hold several images named ['blobs'] (without suffix)"),
])
def test_bad_arguments_are_refused_by_name(demo_tool, pictures, tmp_path, monkeypatch, capsys, args, message):
    _, folder = pictures
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'copy').mkdir()
    cv2.imwrite(str(tmp_path / 'copy' / 'blobs.jpg'), np.zeros((24, 32, 3), np.uint8))
    paths = dict(MISSING=tmp_path / 'missing.jpg', EMPTY=tmp_path / 'empty', FOLDER=folder, COPY=tmp_path / 'copy')
    args = [str(paths.get(arg, arg)) for arg in args]
    message = message.replace('MISSING', str(paths['MISSING'])).replace('EMPTY', str(paths['EMPTY']))
    monkeypatch.setattr(sys, 'argv', ['image_demo.py', *args])
    with pytest.raises(SystemExit) as exit_info:
        demo_tool.parse_args()
    error = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in error
    if 'nosuch' in args:
        assert all(name in error for name in NAMES)


def test_shipped_model_reads_the_index_it_is_given(tmp_path):
    from mmdet_ghostnet.apis import shipped_model
    assert shipped_model() == (str(REPO / 'configs' / 'bccd' / f'{RECOMMENDED}.py'),
                               str(REPO / 'checkpoints' / f'{RECOMMENDED}.pth'))
    index = tmp_path / 'checkpoints' / 'metafile.yml'
    index.parent.mkdir()
    models = [dict(Name=name, Config=f'configs/{name}.py', Weights=f'checkpoints/{name}.pth', Metadata={})
              for name in ('a', 'b')]
    index.write_text(yaml.safe_dump(dict(Models=models)))
    with pytest.raises(ValueError, match=r'0 models of the zoo are Recommended'):
        shipped_model(index=index)
    models[1]['Metadata']['Recommended'] = True
    index.write_text(yaml.safe_dump(dict(Models=models)))
    assert shipped_model(index=index) == (str(tmp_path / 'configs' / 'b.py'), str(tmp_path / 'checkpoints' / 'b.pth'))
    assert shipped_model('a', index)[0] == str(tmp_path / 'configs' / 'a.py')
    with pytest.raises(ValueError, match=r"model 'c' is not in .*: the models are a, b"):
        shipped_model('c', index)
