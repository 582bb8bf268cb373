"""Export a trained detector of this repository to ONNX, and check the file against PyTorch on an image.

``load_detector`` checks the config and checkpoint (before any long work), ``export_onnx`` writes the graph of
any module, and ``check_against_pytorch`` runs the file once in ONNX Runtime on an image (the first test image of
the config's data set, ``dataset_image``; any image, ``pipeline_image``; or, without either, ``generated_image``)
and compares the detections with mmdet's ``predict`` on the same input.
"""
import copy
import os
import warnings
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from torch import nn

from .fuse import fuse_for_deploy
from ..demo.shapes import image_rng, render_image
from ..models import backbones
from ..engine.preflight import check_checkpoint, check_dataset_config
from .compare import MIN_IOU, match_detections
from .end2end import End2EndDetector
from .runtime import batch_images

REPO_CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
OPSET = 17  # RoiAlign's half-pixel mode (mmcv's aligned RoIAlign) needs opset >= 16
INPUT_NAMES = ['input']
OUTPUT_NAMES = ['dets', 'labels']


def check_config(cfg: Config, path: str) -> None:
    """Stop unless ``cfg`` (read from ``path``) is a detector of this repository (a backbone of this repository,
    or any config under its ``configs/``, such as the BCCD study's MobileNetV2 and ResNet-18 peers) with an
    exportable structure (a single-stage dense head with anchor or point priors, YOLOX's head, or RPN + standard
    RoI head)."""
    model = cfg.get('model') or {}
    backbone = (model.get('backbone') or {}).get('type')
    if backbone not in backbones.__all__ and REPO_CONFIGS not in Path(path).resolve().parents:
        raise ValueError(f'config={path!r} is not a detector of this repository: its model.backbone.type is '
                         f'{backbone!r}, expected one of {backbones.__all__} (or a config under {REPO_CONFIGS})')
    bbox_head = model.get('bbox_head') or {}
    heads = 'rpn_head' in model and (model.get('roi_head') or {}).get('type') == 'StandardRoIHead' or (
        'anchor_generator' in bbox_head or bbox_head.get('type') == 'YOLOXHead')
    if not heads:
        raise ValueError(f'config={path!r}: model.type={model.get("type")!r} cannot be exported: supported are '
                         'single-stage dense heads with a prior generator (RetinaNet, SSD, RTMDet), YOLOXHead and '
                         'RPN + StandardRoIHead (Faster R-CNN)')


def default_input_size(cfg: Config) -> Tuple[int, int]:
    """(H, W) of the fixed input: the test pipeline's ``Resize`` scale, padded to the data preprocessor's divisor."""
    resize = [t for t in cfg.test_dataloader.dataset.pipeline if t.get('type') == 'Resize' and 'scale' in t]
    if not resize:
        raise ValueError('the config\'s test pipeline has no Resize with a scale; give the input size with --shape')
    width, height = resize[0]['scale']  # mmdet's scale is (w, h)
    divisor = cfg.model.get('data_preprocessor', {}).get('pad_size_divisor', 1)
    return -(-height // divisor) * divisor, -(-width // divisor) * divisor


def load_detector(cfg: Config, config_path: str, checkpoint: str) -> nn.Module:
    """Build the detector of ``cfg`` in eval mode with the weights of ``checkpoint`` (checked to fit it)."""
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    check_config(cfg, config_path)
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    check_checkpoint(checkpoint, model)
    load_checkpoint(model, checkpoint, map_location='cpu', logger='silent')
    return model.eval()


def end_to_end(detector: nn.Module) -> End2EndDetector:
    """The exportable model: a BatchNorm-folded copy of ``detector`` with pre- and post-processing."""
    return End2EndDetector(fuse_for_deploy(copy.deepcopy(detector), channels_last=False)).eval()


def export_onnx(module: nn.Module, example: torch.Tensor, out: str, output_names: Sequence[str],
                dynamic: bool = False, opset: int = OPSET,
                output_dims: Optional[Sequence[Sequence[int]]] = None) -> None:
    """Trace ``module`` on ``example`` (N x 3 x H x W) into the ONNX file ``out`` (TorchScript exporter).

    With ``dynamic`` the batch, height and width of ``input`` are free (axes ``batch``, ``height``, ``width``).
    ``output_dims`` (per output, its sizes after the batch axis) are written into the graph's output types where
    ONNX shape inference cannot follow them (through NMS).
    """
    axes = {'input': {0: 'batch', 2: 'height', 3: 'width'}} if dynamic else None
    if axes:
        axes.update({name: {0: 'batch'} for name in output_names})
    with torch.no_grad(), warnings.catch_warnings():
        # Shape assertions (GhostFPN's channel check, mmdet's box coder) become constants: expected, harmless.
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        warnings.filterwarnings('ignore', 'Constant folding - Only steps=1')
        torch.onnx.export(module, (example, ), out, input_names=INPUT_NAMES, output_names=list(output_names),
                          opset_version=opset, dynamic_axes=axes, do_constant_folding=True, dynamo=False)
    if output_dims is not None:
        _declare_output_shapes(out, 'batch' if dynamic else example.shape[0], output_dims)


def _declare_output_shapes(path: str, batch, output_dims: Sequence[Sequence[int]]) -> None:
    import onnx
    model = onnx.load(path)
    for output, dims in zip(model.graph.output, output_dims):
        shape = output.type.tensor_type.shape
        shape.ClearField('dim')
        for size in (batch, *dims):
            dim = shape.dim.add()
            if isinstance(size, str):
                dim.dim_param = size
            else:
                dim.dim_value = int(size)
    onnx.save(model, path)


def dataset_image(cfg: Config, index: int = 0) -> dict:
    """Item ``index`` of the config's test set through its pipeline (``inputs`` uint8 3 x h x w, ``data_samples``)."""
    from mmdet.registry import DATASETS
    check_dataset_config('test_dataloader', cfg.test_dataloader.dataset)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    return dataset[index]


def pipeline_image(cfg: Config, image: np.ndarray) -> dict:
    """``image`` (uint8 H x W x 3, BGR) through the config's test pipeline, read from memory instead of a file (as
    mmdet's ``inference_detector`` does; the annotation loading finds none): a test-set-like item (``inputs`` uint8
    3 x h x w, ``data_samples``)."""
    from mmcv.transforms import Compose
    steps = [dict(step) for step in cfg.test_dataloader.dataset.pipeline]
    steps[0]['type'] = 'mmdet.LoadImageFromNDArray'  # in place of the pipeline's image file loader
    return Compose(steps)(dict(img=image, img_id=0))


def generated_image(side: int, seed: int = 0) -> np.ndarray:
    """A ``side`` x ``side`` uint8 image of the demo set's kind (shapes on a varied background), drawn from ``seed``."""
    pixels, _, _ = render_image(image_rng(seed, 'val', 0), side)
    return pixels


def check_against_pytorch(detector: nn.Module, session, item: dict, size: Tuple[int, int],
                          min_iou: float = MIN_IOU, min_score: float = 0.0,
                          other_min_score: Optional[float] = None) -> Dict[str, float]:
    """Run the ONNX Runtime ``session`` and ``detector.predict`` on the image ``item`` padded to ``size`` (H, W).

    Returns ``match_detections`` of the two (PyTorch as the reference: its ``max_per_img`` best, which is all of
    them except for YOLOX, whose head keeps every detection; its detections scoring at least ``min_score``, the
    session's at least ``other_min_score``, by default the same) with ``max_box_diff`` (pixels, largest coordinate difference among the first ``min(K1, K2)``
    detections in score order) added.
    """
    wrapper = End2EndDetector(detector)
    image = item['inputs']
    batch = batch_images([image], size, wrapper.padding_value())
    dets, labels = session.run(OUTPUT_NAMES, {'input': batch.numpy()})
    sample = copy.deepcopy(item['data_samples'])
    shape = tuple(batch.shape[2:])
    sample.set_metainfo(dict(img_shape=shape, pad_shape=shape, batch_input_shape=shape))
    with torch.no_grad():
        reference = detector.predict(wrapper.normalize(batch), [sample], rescale=False)[0].pred_instances
    reference = reference[reference.scores.argsort(descending=True)[:wrapper.max_per_img]]
    reference = reference[reference.scores >= min_score]
    keep = (labels[0] >= 0) & (dets[0, :, 4] >= (min_score if other_min_score is None else other_min_score))
    boxes, scores, classes = (torch.from_numpy(dets[0, keep, :4]), torch.from_numpy(dets[0, keep, 4]),
                              torch.from_numpy(labels[0, keep]))
    result = match_detections(reference.bboxes, reference.scores, reference.labels, boxes, scores, classes,
                              min_iou)
    common = min(len(boxes), len(reference.bboxes))
    result['max_box_diff'] = float((boxes[:common] - reference.bboxes[:common]).abs().max()) if common else 0.0
    return result


def check_onnx_file(onnx_file: str) -> None:
    """``onnx.checker`` on the written file (full check, with shape inference)."""
    import onnx
    onnx.checker.check_model(onnx_file, full_check=True)


def check_writable(out: str) -> None:
    """Stop unless ``out`` is a ``.onnx`` path in an existing, writable folder."""
    folder = os.path.dirname(os.path.abspath(out))
    if not out.endswith('.onnx'):
        raise ValueError(f'--out={out!r} must end with .onnx')
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise ValueError(f'--out={out!r}: the folder {folder!r} does not exist or is not writable')
