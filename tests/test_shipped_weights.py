"""The weights in ``checkpoints/`` are what ``checkpoints/metafile.yml`` says, and find the cells of three real BCCD
test images (``tests/data/bccd``, never trained on) through the Python API, ``DetInferencer`` and the exported ONNX
file. The oracle is the images' own VOC annotations, read here with the standard library."""
import warnings
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import torch
import yaml
from mmengine.config import Config
from torchvision.ops import box_iou

from mmdet_ghostnet.engine.publish import sha256_of

from tool_runs import REPO, run

DATA = REPO / 'tests' / 'data' / 'bccd'
IMAGES = sorted((DATA / 'BCCD' / 'JPEGImages').glob('*.jpg'))
CLASSES = ('RBC', 'WBC', 'Platelets')
MODELS = yaml.safe_load((REPO / 'checkpoints' / 'metafile.yml').read_text())['Models']
SCORE_THR = 0.3
IOU_THR = 0.5
# The stated bar: of the three images' 57 annotated cells (44 RBC, 4 WBC, 9 platelets), at least this fraction is
# matched (IoU >= 0.5, same class, score >= 0.3), and every class has a match. BCCD leaves some red cells
# unlabelled, which recall does not punish.
MIN_RECALL = 0.8
MAX_WEIGHTS_MB = 10


def annotated_cells(image: Path):
    """Boxes (x1, y1, x2, y2) and class indices of ``image``'s VOC annotation file."""
    root = ElementTree.parse(DATA / 'BCCD' / 'Annotations' / f'{image.stem}.xml').getroot()
    boxes, labels = [], []
    for obj in root.iter('object'):
        box = obj.find('bndbox')
        boxes.append([float(box.find(side).text) for side in ('xmin', 'ymin', 'xmax', 'ymax')])
        labels.append(CLASSES.index(obj.find('name').text.strip()))
    return torch.tensor(boxes), torch.tensor(labels)


def matched_cells(boxes: torch.Tensor, scores: torch.Tensor, labels: torch.Tensor, image: Path) -> torch.Tensor:
    """Per annotated cell of ``image``, whether a distinct detection of its class (score >= SCORE_THR, greedy by
    score) overlaps it with IoU >= IOU_THR."""
    gt_boxes, gt_labels = annotated_cells(image)
    matched = torch.zeros(len(gt_boxes), dtype=torch.bool)
    for index in scores.argsort(descending=True):
        if scores[index] < SCORE_THR:
            break
        iou = box_iou(boxes[index:index + 1].float(), gt_boxes)[0]
        iou[(gt_labels != labels[index]) | matched] = 0
        if iou.max() >= IOU_THR:
            matched[iou.argmax()] = True
    return matched


def assert_finds_cells(predictions) -> None:
    """``predictions``: per image of IMAGES, (boxes, scores, labels) in original pixels."""
    matched = [matched_cells(*prediction, image) for prediction, image in zip(predictions, IMAGES, strict=True)]
    labels = torch.cat([annotated_cells(image)[1] for image in IMAGES])
    matched = torch.cat(matched)
    recall = matched.float().mean().item()
    assert recall >= MIN_RECALL, f'recall {recall:.3f} < {MIN_RECALL}'
    for index, name in enumerate(CLASSES):
        assert matched[labels == index].any(), f'no {name} found'


def as_tensors(instances):
    return instances.bboxes.detach(), instances.scores.detach(), instances.labels.detach()


@pytest.fixture(params=MODELS, ids=[model['Name'] for model in MODELS], scope='module')
def shipped(request):
    return request.param


def test_model_index_describes_the_files(shipped):
    weights = REPO / shipped['Weights']
    assert sha256_of(weights) == shipped['Metadata']['Weights sha256']
    assert weights.stat().st_size <= MAX_WEIGHTS_MB * 2**20
    assert (REPO / shipped['Config']).is_file()
    state_dict = torch.load(weights, map_location='cpu', weights_only=True)['state_dict']
    floats = [tensor for tensor in state_dict.values() if tensor.is_floating_point()]
    assert {tensor.dtype for tensor in floats} == {torch.float16}
    assert all(torch.isfinite(tensor).all() for tensor in floats)


def test_python_api_finds_cells(shipped):
    from mmdet.apis import inference_detector, init_detector
    detector = init_detector(str(REPO / shipped['Config']), str(REPO / shipped['Weights']), device='cpu')
    assert {p.dtype for p in detector.parameters()} == {torch.float32}  # float16 storage, float32 evaluation
    assert detector.dataset_meta['classes'] == CLASSES
    results = inference_detector(detector, [str(image) for image in IMAGES])
    assert_finds_cells([as_tensors(result.pred_instances) for result in results])


def test_det_inferencer_finds_cells(shipped):
    from mmdet.apis import DetInferencer
    inferencer = DetInferencer(model=str(REPO / shipped['Config']), weights=str(REPO / shipped['Weights']),
                               device='cpu', show_progress=False)
    results = inferencer([str(image) for image in IMAGES], return_datasamples=True, no_save_vis=True,
                         no_save_pred=True, print_result=False)
    assert_finds_cells([as_tensors(sample.pred_instances) for sample in results['predictions']])


def test_exported_onnx_finds_cells(shipped, tmp_path, monkeypatch):
    from mmdet.apis import DetInferencer

    from mmdet_ghostnet.export.runtime import onnx_model_config
    monkeypatch.setenv('BCCD_ROOT', f'{DATA}/')
    onnx_file = tmp_path / 'detector.onnx'
    run(REPO / 'tools' / 'export_onnx.py', REPO / shipped['Config'], REPO / shipped['Weights'], '--out', onnx_file)
    cfg = Config.fromfile(REPO / shipped['Config'])
    cfg.model = onnx_model_config(cfg.model, str(onnx_file))
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='.*(randomly initialized|use COCO classes).*')  # .onnx: no weights
        inferencer = DetInferencer(model=cfg, weights=None, device='cpu', show_progress=False)
    results = inferencer([str(image) for image in IMAGES], return_datasamples=True, no_save_vis=True,
                         no_save_pred=True, print_result=False)
    assert_finds_cells([as_tensors(sample.pred_instances) for sample in results['predictions']])
