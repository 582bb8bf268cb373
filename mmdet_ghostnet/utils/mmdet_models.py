"""The models of MMDetection's own configs, for training them on another data set (the BCCD study's peers).

``mmdet_model('mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py', num_classes=3)`` is that config's ``model`` with
only the changes that a from-scratch run in one process needs:

* the dense head's ``num_classes``;
* ``SyncBN`` becomes ``BN`` (one process has nothing to synchronise with; the momentum and eps stay);
* ``Pretrained`` initialisations are dropped (the study trains every row from scratch);
* the data preprocessor's batch augmentations are dropped (YOLOX's multi-scale resizing: the study's recipe, the
  same for every row, resizes in its data pipeline), and one that does not pad pads to a multiple of 32 (RTMDet's
  pipeline pads every image to 640x640; at the study's scales its PAFPN could not add an upsampled level to the
  one above it);
* ``SSDHead`` becomes ``PredictingSSDHead``, the same head, which mmdet 3.3's cannot be without (it stops at the
  first validation: ``mmdet_ghostnet.models.dense_heads.predicting_ssd_head``).
"""
from pathlib import Path
from typing import Any

import mmdet
from mmengine.config import Config

PACKAGE_PREFIX = 'mmdet::'


def mmdet_model(config: str, num_classes: int) -> dict:
    """The ``model`` of ``config`` (``mmdet::<path>`` in MMDetection's configs, or a file) for ``num_classes``
    classes; see the module doc."""
    if config.startswith(PACKAGE_PREFIX):
        config = str(Path(mmdet.__file__).parent / '.mim' / 'configs' / config[len(PACKAGE_PREFIX):])
    model = _single_process_from_scratch(Config.fromfile(config).model.to_dict())
    model['bbox_head']['num_classes'] = num_classes
    if model['bbox_head']['type'] == 'SSDHead':
        model['bbox_head']['type'] = 'PredictingSSDHead'
    if 'data_preprocessor' in model:
        model['data_preprocessor']['batch_augments'] = None
        model['data_preprocessor'].setdefault('pad_size_divisor', 32)
    return model


def _single_process_from_scratch(node: Any) -> Any:
    """``node`` (a config tree) with ``SyncBN`` as ``BN`` and without ``Pretrained`` ``init_cfg`` entries."""
    if isinstance(node, list):
        return [_single_process_from_scratch(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = dict(node, type='BN') if node.get('type') == 'SyncBN' else dict(node)
    if isinstance(node.get('init_cfg'), dict) and node['init_cfg'].get('type') == 'Pretrained':
        del node['init_cfg']
    return {key: _single_process_from_scratch(value) for key, value in node.items()}
