"""Paint a detector's detections (boxes, class names, scores) on images, with MMDetection's own inferencer.

``DetInferencer`` runs the model and its ``DetLocalVisualizer`` paints; for images of a dataset split the ground
truth is painted beside the detections (the visualizer's left / right layout). The model is a checkpoint, or a
file of ``tools/export_onnx.py`` run by ONNX Runtime (``OnnxRuntimeDetector``, as ``tools/test.py`` runs it).
"""
import os
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence

import cv2
import mmcv
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def list_images(inputs: Sequence[str]) -> List[str]:
    """Image files among ``inputs`` (files, or folders searched one level deep), sorted, without repeats."""
    images = []
    for item in inputs:
        if osp.isdir(item):
            names = sorted(os.listdir(item))
            images += [osp.join(item, name) for name in names if name.lower().endswith(IMAGE_SUFFIXES)]
        elif osp.isfile(item):
            if not item.lower().endswith(IMAGE_SUFFIXES):
                raise ValueError(f'input {item!r} is not an image: allowed suffixes are {IMAGE_SUFFIXES}')
            images.append(item)
        else:
            raise FileNotFoundError(f'input {item!r} is neither an image file nor a folder')
    if not images:
        raise ValueError(f'inputs={list(inputs)!r} hold no image ({", ".join(IMAGE_SUFFIXES)})')
    return list(dict.fromkeys(images))


def build_dataset(config: Config, split: str, why: str, lazy: bool = False):
    """The dataset of the config's ``{split}_dataloader`` without its pipeline (``lazy``: annotations not read);
    ``why`` starts the error message when the config has no such loader."""
    from mmdet.registry import DATASETS
    loader = config.get(f'{split}_dataloader')
    if not loader:
        raise ValueError(f'{why}: the config has no {split}_dataloader')
    init_default_scope(config.get('default_scope', 'mmdet'))
    return DATASETS.build(dict(loader['dataset'], pipeline=[], lazy_init=lazy))


def ground_truth(dataset) -> Dict[str, InstanceData]:
    """Ground-truth boxes and labels (image coordinates) of ``dataset``'s images by real image path."""
    truth = {}
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        kept = [inst for inst in info['instances'] if not inst.get('ignore_flag', 0)]
        truth[osp.realpath(info['img_path'])] = InstanceData(
            bboxes=torch.tensor([inst['bbox'] for inst in kept], dtype=torch.float32).reshape(-1, 4),
            labels=torch.tensor([inst['bbox_label'] for inst in kept], dtype=torch.long))
    return truth


def paint_detections(config: str,
                     checkpoint: str,
                     images: Sequence[str],
                     out_dir: str,
                     score_thr: float = 0.3,
                     gt_split: Optional[str] = None,
                     device: str = 'cpu',
                     cfg_options: Optional[dict] = None,
                     runtime: str = 'onnxruntime') -> List[str]:
    """Detect on ``images`` with ``checkpoint`` (a ``.pth``, or an exported ``.onnx`` run in ``runtime``) and write
    one painted image per input to ``out_dir``; returns the written paths.

    With ``gt_split``, images of that split of the config's dataset show the ground truth (left) beside the
    detections (right); other images show the detections only. A progress bar follows the images.
    ``cfg_options`` override settings of the config, as ``--cfg-options`` does.
    """
    from mmdet.apis import DetInferencer
    if not 0 <= score_thr <= 1:
        raise ValueError(f'score_thr={score_thr!r} is invalid: it must be in [0, 1]')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    truth_set = build_dataset(cfg, gt_split, f'--gt-split={gt_split!r} is invalid') if gt_split else None
    truth = ground_truth(truth_set) if gt_split else {}
    exported = checkpoint.endswith('.onnx')
    if exported:
        from ..export.runtime import onnx_model_config
        cfg.model = onnx_model_config(cfg.model, checkpoint, runtime=runtime)
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='.*(randomly initialized|use COCO classes).*')  # no weights: .onnx
        inferencer = DetInferencer(model=cfg, weights=None if exported else checkpoint, device=device,
                                   show_progress=True)
    if exported:  # class names from the config's dataset (a checkpoint carries them in its meta)
        names_from = truth_set if truth_set is not None else build_dataset(
            cfg, 'test', 'an .onnx file carries no class names, they come from the test set', lazy=True)
        inferencer.model.dataset_meta = inferencer.visualizer.dataset_meta = names_from.metainfo
    results = inferencer(list(images), return_datasamples=True, no_save_vis=True, no_save_pred=True,
                         print_result=False)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for image_path, sample in zip(images, results['predictions'], strict=True):
        image = mmcv.imread(image_path, channel_order='rgb')
        gt = truth.get(osp.realpath(image_path))
        if gt is not None:
            sample.gt_instances = gt
        out_file = osp.join(out_dir, osp.basename(image_path))
        inferencer.visualizer.add_datasample(
            osp.basename(image_path), image, sample, draw_gt=gt is not None, draw_pred=True,
            pred_score_thr=score_thr, show=False, out_file=out_file)
        written.append(out_file)
    return written


def montage(paths: Sequence[str], out_file: str, width: int = 960) -> np.ndarray:
    """Stack the images at ``paths`` vertically, each resized to ``width`` px wide, and write ``out_file``."""
    rows = []
    for path in paths:
        image = mmcv.imread(path)
        rows.append(mmcv.imresize(image, (width, round(image.shape[0] * width / image.shape[1]))))
    picture = np.concatenate(rows, axis=0)
    mmcv.imwrite(picture, out_file, params=[cv2.IMWRITE_JPEG_QUALITY, 85])
    return picture
