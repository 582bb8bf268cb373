"""A PASCAL VOC-layout dataset whose bad boxes are dropped and counted, never lost silently."""
import logging
import os.path as osp
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from typing import Dict, List, NamedTuple, Optional, Tuple

from mmdet.datasets import XMLDataset
from mmdet.registry import DATASETS
from mmengine.logging import print_log

# Why a box is dropped; the keys of ``CheckedVOCDataset.dropped_boxes``.
UNKNOWN_CLASS = 'class not in metainfo.classes'
NOT_A_NUMBER = 'missing or non-numeric coordinates'
DEGENERATE = 'degenerate (xmax <= xmin or ymax <= ymin)'
OUTSIDE = 'outside the image'
STICKS_OUT = 'sticks out of the image'
MAX_EXAMPLES = 5


class BadBox(NamedTuple):
    """A box that cannot be trained on as written: its file, class name, corners, problem and what was done."""
    file: str
    name: str
    corners: object
    problem: str
    action: str


@DATASETS.register_module()
class CheckedVOCDataset(XMLDataset):
    """VOC layout (``Annotations/*.xml``, ``JPEGImages/*.jpg``, ``ImageSets/Main/<split>.txt``) with box checks.

    Reads what mmdet's ``XMLDataset`` reads, with its conventions (1-based VOC corners made 0-based,
    ``difficult`` -> ``ignore_flag``, ``filter_cfg.bbox_min_size``), but a box that cannot be trained on is
    dropped and counted instead of crashing the run or vanishing: one whose class is not in
    ``metainfo.classes``, whose corners are missing or not numbers, that is degenerate, or that lies wholly
    outside the image. Boxes that stick out of the image are clipped to it (and counted). After loading, one
    log line gives the totals per reason with example files; ``dropped_boxes`` and ``clipped_boxes`` hold them,
    ``bad_boxes`` every such box (:class:`BadBox`).

    Args:
        **kwargs: Those of ``XMLDataset``: ``data_root``, ``ann_file`` (the split list),
            ``data_prefix=dict(sub_data_root=...)``, ``metainfo=dict(classes=...)``, ``pipeline``, ...
    """

    def load_data_list(self) -> List[dict]:
        self.dropped_boxes: Counter = Counter()
        self.clipped_boxes = 0
        self.bad_boxes: List[BadBox] = []
        self._examples: Dict[str, List[str]] = defaultdict(list)
        data_list = super().load_data_list()
        self._log_summary(data_list)
        return data_list

    def _parse_instance_info(self, raw_ann_info: ET.ElementTree, minus_one: bool = True) -> List[dict]:
        """Instances of one XML file: ``dict(bbox=[x1, y1, x2, y2], bbox_label, ignore_flag)`` per kept box."""
        root = raw_ann_info.getroot() if isinstance(raw_ann_info, ET.ElementTree) else raw_ann_info
        file_name = root.findtext('filename') or '?'
        image_size = _image_size(root)
        classes = self._metainfo['classes']
        instances = []
        for obj in root.findall('object'):
            name = (obj.findtext('name') or '').strip()
            corners = written = _corners(obj.find('bndbox'), minus_one)
            problem = UNKNOWN_CLASS if name not in classes else NOT_A_NUMBER if corners is None else None
            if problem is None:
                corners, clipped = _clip(corners, image_size)
                self.clipped_boxes += clipped
                problem = _shape_problem(corners, image_size)
                if clipped:
                    self.bad_boxes.append(BadBox(file_name, name, written, STICKS_OUT, f'clipped to {corners}'))
            if problem is not None:
                self.bad_boxes.append(BadBox(file_name, name, written, problem, 'dropped'))
                self.dropped_boxes[problem] += 1
                self._note(problem, file_name if problem != UNKNOWN_CLASS else f'{file_name} ({name!r})')
                continue
            ignore = obj.findtext('difficult', '0').strip() not in ('', '0') or self._too_small(corners)
            instances.append(dict(bbox=corners, bbox_label=classes.index(name), ignore_flag=int(ignore)))
        return instances

    def _too_small(self, corners: List[float]) -> bool:
        """mmdet's ``filter_cfg.bbox_min_size``: smaller training boxes are ignored (kept, not learnt from)."""
        min_size = self.bbox_min_size
        return (min_size is not None and not self.test_mode
                and min(corners[2] - corners[0], corners[3] - corners[1]) < min_size)

    def _note(self, problem: str, example: str) -> None:
        if len(self._examples[problem]) < MAX_EXAMPLES:
            self._examples[problem].append(example)

    def _log_summary(self, data_list: List[dict]) -> None:
        kept = sum(len(info['instances']) for info in data_list)
        source = osp.relpath(self.ann_file) if osp.isabs(self.ann_file) else self.ann_file
        message = f'{type(self).__name__} {source}: {len(data_list)} images, {kept} boxes kept'
        if self.clipped_boxes:
            message += f', {self.clipped_boxes} of them clipped to the image'
        if not self.dropped_boxes:
            print_log(message + ', none dropped', logger='current', level=logging.INFO)
            return
        reasons = '; '.join(f'{count} {problem}, e.g. {", ".join(self._examples[problem])}'
                            for problem, count in self.dropped_boxes.most_common())
        dropped = sum(self.dropped_boxes.values())
        print_log(f'{message}; dropped {dropped} box{"es" if dropped > 1 else ""}: {reasons}', logger='current',
                  level=logging.WARNING)


def _image_size(root: ET.Element) -> Optional[Tuple[int, int]]:
    """``(width, height)`` from the XML ``<size>``, or None when it is absent or unusable."""
    try:
        width, height = int(root.findtext('size/width')), int(root.findtext('size/height'))
    except (TypeError, ValueError):
        return None
    return (width, height) if width > 0 and height > 0 else None


def _corners(bndbox: Optional[ET.Element], minus_one: bool) -> Optional[List[float]]:
    """``[xmin, ymin, xmax, ymax]`` as mmdet reads them (integers, 0-based with ``minus_one``), or None."""
    try:
        corners = [int(float(bndbox.findtext(key))) for key in ('xmin', 'ymin', 'xmax', 'ymax')]
    except (AttributeError, TypeError, ValueError, OverflowError):
        return None
    return [c - 1 for c in corners] if minus_one else corners


def _clip(corners: List[float], image_size: Optional[Tuple[int, int]]) -> Tuple[List[float], bool]:
    """Corners clipped to ``[0, width] x [0, height]`` and whether that changed them."""
    if image_size is None:
        return corners, False
    width, height = image_size
    clipped = [min(max(c, 0), limit) for c, limit in zip(corners, (width, height, width, height))]
    changed = clipped != corners and _shape_problem(clipped, image_size) is None
    return clipped, changed


def _shape_problem(corners: List[float], image_size: Optional[Tuple[int, int]]) -> Optional[str]:
    x1, y1, x2, y2 = corners
    if image_size is not None:
        width, height = image_size
        if x1 >= width or y1 >= height or x2 <= 0 or y2 <= 0:
            return OUTSIDE
    return DEGENERATE if x2 <= x1 or y2 <= y1 else None
