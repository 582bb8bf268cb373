"""Check a dataset's images and boxes before training: every file that is missing, does not decode (not an
image, or truncated: OpenCV refuses incomplete files) or has another size than its annotation says, and every box
the dataset class drops or changes, each with what the dataset class and the runner will do with it
(``tools/check_dataset.py``, ``tools/train.py --check-images``).
"""
import os.path as osp
from typing import Iterable, List, NamedTuple, Optional, Tuple

import mmcv
from mmcv.transforms import LoadImageFromFile
from mmdet.datasets import CocoDataset
from mmdet.datasets.api_wrappers import COCO
from mmengine.config import Config
from mmengine.fileio import get
from mmengine.registry import DATASETS, DefaultScope
from mmengine.utils import ProgressBar

SKIPPED = 'training skips it (logged with its name and a count); evaluation stops at it'


class Finding(NamedTuple):
    """One problem: the file, what is wrong, and what training / evaluation will do about it."""
    path: str
    problem: str
    consequence: str

    def __str__(self) -> str:
        return f'{self.path}: {self.problem} -> {self.consequence}'


def image_problem(path: str, annotated_size: Optional[Tuple[int, int]], load: LoadImageFromFile) -> Optional[
        Tuple[str, str]]:
    """``(problem, consequence)`` for the image at ``path`` decoded as ``load`` decodes it, or None if it is fine.

    ``annotated_size`` is ``(width, height)`` from the annotation, when it has one.
    """
    if not osp.isfile(path):
        return 'does not exist', SKIPPED
    try:
        image = mmcv.imfrombytes(get(path, backend_args=load.backend_args), flag=load.color_type,
                                 backend=load.imdecode_backend)
    except Exception as error:  # the decoders raise their own errors on bytes that are no image
        image, reason = None, f' ({type(error).__name__}: {error})'
    else:
        reason = ''
    if image is None:
        return f'cannot be decoded{reason}', SKIPPED
    height, width = image.shape[:2]
    if annotated_size is not None and tuple(annotated_size) != (width, height):
        return (f'is {width}x{height} but its annotation says {annotated_size[0]}x{annotated_size[1]}',
                "used as it is, with the annotation's boxes, which may not fit it: fix the annotation or the file")
    return None


def box_findings(dataset) -> List[Finding]:
    """The boxes ``dataset`` dropped or changed: ``CheckedVOCDataset.bad_boxes``, or for COCO-layout datasets
    the annotations that mmdet's ``CocoDataset`` leaves out."""
    if hasattr(dataset, 'bad_boxes'):
        return [Finding(box.file, f'box {box.name!r} {box.corners}: {box.problem}', f'{type(dataset).__name__} '
                        f'{box.action}') for box in dataset.bad_boxes]
    if not isinstance(dataset, CocoDataset):
        return []
    coco = COCO(dataset.ann_file)  # the dataset drops its own after loading
    kept_categories = set(dataset.cat_ids)
    findings = []
    for image_id in coco.get_img_ids():
        image = coco.load_imgs([image_id])[0]
        for ann in coco.load_anns(coco.get_ann_ids(img_ids=[image_id])):
            problem = coco_box_problem(ann, image, kept_categories)
            if problem is not None:
                findings.append(Finding(image['file_name'], f'box {ann["bbox"]} (annotation {ann["id"]}): {problem}',
                                        f'{type(dataset).__name__} leaves it out'))
    return findings


def coco_box_problem(ann: dict, image: dict, kept_categories: set) -> Optional[str]:
    """Why mmdet's ``CocoDataset.parse_data_info`` leaves a COCO annotation out, or None if it keeps it."""
    if ann.get('ignore', False):
        return None
    x, y, w, h = ann['bbox']
    if max(0, min(x + w, image['width']) - max(x, 0)) * max(0, min(y + h, image['height']) - max(y, 0)) == 0:
        return 'outside the image'
    if ann['area'] <= 0 or w < 1 or h < 1:
        return 'degenerate (area <= 0 or a side under 1 pixel)'
    if ann['category_id'] not in kept_categories:
        return f'category {ann["category_id"]} is not one of the config\'s classes'
    return None


def loading_transform(dataset) -> LoadImageFromFile:
    """The ``LoadImageFromFile`` of the dataset's pipeline (its decoder), or a default one."""
    transforms = getattr(getattr(dataset, 'pipeline', None), 'transforms', [])
    return next((t for t in transforms if isinstance(t, LoadImageFromFile)), LoadImageFromFile())


def dataset_findings(dataset, progress: bool = True) -> List[Finding]:
    """Every problem with the images and boxes of a (built) dataset; with ``progress``, a progress bar."""
    load = loading_transform(dataset)
    findings = box_findings(dataset)
    bar = ProgressBar(len(dataset)) if progress else None
    for info in map(dataset.get_data_info, range(len(dataset))):
        size = (info['width'], info['height']) if 'width' in info and 'height' in info else None
        problem = image_problem(info['img_path'], size, load)
        if problem is not None:
            findings.append(Finding(info['img_path'], *problem))
        if bar is not None:
            bar.update()
    if bar is not None:
        print()
    return findings


def config_datasets(cfg: Config, splits: Iterable[str]) -> list:
    """The datasets of ``<split>_dataloader`` for each split the config has (each distinct one once), built."""
    seen, datasets = [], []
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader or loader.dataset in seen:
            continue
        seen.append(loader.dataset)
        with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
            datasets.append(DATASETS.build(loader.dataset))
    return datasets


def check_config_images(cfg: Config, splits: Iterable[str] = ('train', 'val', 'test'),
                        progress: bool = True) -> List[Finding]:
    """Every problem with the images and boxes of the config's datasets of ``splits``, in order."""
    return [finding for dataset in config_datasets(cfg, splits) for finding in dataset_findings(dataset, progress)]
