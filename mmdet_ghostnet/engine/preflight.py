"""Checks that ``tools/train.py`` and ``tools/test.py`` run before any long work, with errors that say what to fix.

They catch what would otherwise fail minutes or hours later, or not at all: a neck that does not fit the backbone,
a missing data root, annotation file or image folder, an annotation file that is not COCO JSON, categories that
match none of the config's classes, checkpoints that are truncated, corrupt or of another model, and ImageNet weights
(a file, or a URL fetched here into the download cache) that are unreachable or do not fit the backbone.
"""
import json
import os
import os.path as osp
import socket
from contextlib import contextmanager
from typing import Iterable, Iterator, List, Optional

import torch
from mmengine.config import ConfigDict
from mmengine.model import is_model_wrapper
from torch import nn

from ..models import GhostNet, GhostNetV2, GhostNetV3
from ..models.backbones.official_weights import is_url, load_official_weights
from .fine_tune import class_layers_to_reinit

DEMO_HINT = 'For the offline demo data run: python tools/make_demo_data.py (see the README for COCO).'
VOC_HINT = ('For BCCD: clone its public repository (Shenggan/BCCD_Dataset) to data/bccd or set BCCD_ROOT to the '
            'clone (see the README).')
VOC_SUBDIRS = ('Annotations', 'JPEGImages')
GHOSTNET_TYPES = ('GhostNet', 'GhostNetV2', 'GhostNetV3')  # same out_channels for the same arguments
GHOSTNET_CLASSES = dict(zip(GHOSTNET_TYPES, (GhostNet, GhostNetV2, GhostNetV3)))
DOWNLOAD_TIMEOUT_S = 60.0  # no answer for this long on a socket: the weights' URL counts as unreachable
FULL_JSON_CHECK_BYTES = 64 * 2**20  # larger annotation files are parsed by the dataset itself, once


def check_model_config(model_cfg: ConfigDict) -> None:
    """Check, before the detector is built, that a ``GhostNet`` (V1, V2 or V3) backbone's output channels equal the
    neck's ``in_channels`` (builds a V1 backbone with the same arguments: V2 and V3 have its channels)."""
    backbone, neck = model_cfg.get('backbone'), model_cfg.get('neck')
    if not (backbone and neck and backbone.get('type') in GHOSTNET_TYPES and 'in_channels' in neck):
        return
    arguments = {k: v for k, v in backbone.items() if k not in ('type', 'init_cfg')}
    channels = list(GhostNet(**arguments, init_cfg=None).out_channels)
    if list(neck['in_channels']) != channels:
        described = ', '.join(f'{k}={v!r}' for k, v in arguments.items() if k in ('widen_factor', 'out_indices'))
        raise ValueError(f'model.neck.in_channels={list(neck["in_channels"])} does not fit the backbone: '
                         f'GhostNet({described}) gives {channels}. Set model.neck.in_channels={channels} (or '
                         'change the backbone).')


def check_pretrained_backbone(model_cfg: ConfigDict) -> None:
    """Check, before training starts, that a GhostNet backbone's ``init_cfg=dict(type='Pretrained', checkpoint=...)``
    loads strictly into that backbone. A URL is downloaded here (once: mmengine's loader reads the cached file when
    the backbone is initialised); unreachable, it raises ``CheckpointDownloadError`` naming the URL, a local file's
    option and training from scratch."""
    backbone = model_cfg.get('backbone') or {}
    init_cfg = backbone.get('init_cfg')
    if not (backbone.get('type') in GHOSTNET_TYPES and isinstance(init_cfg, dict)
            and init_cfg.get('type') == 'Pretrained' and init_cfg.get('checkpoint')):
        return
    checkpoint = init_cfg['checkpoint']
    if not is_url(checkpoint) and not osp.isfile(osp.expanduser(checkpoint)):
        raise FileNotFoundError(f'model.backbone.init_cfg.checkpoint={checkpoint!r} does not exist; give an existing '
                                'file, a URL, or None to train the backbone from scratch')
    arguments = {k: v for k, v in backbone.items() if k not in ('type', 'init_cfg')}
    with _socket_timeout(DOWNLOAD_TIMEOUT_S):
        load_official_weights(GHOSTNET_CLASSES[backbone['type']](**arguments, init_cfg=None), checkpoint,
                              prefix=init_cfg.get('prefix'))


@contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    """Sockets opened inside (urllib's, which set none themselves) give up after ``seconds`` without an answer."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _datasets(cfg: ConfigDict) -> Iterable[ConfigDict]:
    """The leaf dataset configs of a dataset config (through RepeatDataset/ConcatDataset-style wrappers)."""
    if 'dataset' in cfg:
        yield from _datasets(cfg['dataset'])
    elif 'datasets' in cfg:
        for child in cfg['datasets']:
            yield from _datasets(child)
    else:
        yield cfg


def _resolve(data_root: str, path: str) -> str:
    return path if not data_root or osp.isabs(path) else osp.join(data_root, path)


def check_dataset_config(name: str, dataset_cfg: ConfigDict) -> None:
    """Check that ``dataset_cfg`` (the config of ``name``, e.g. 'train_dataloader') points at usable data:
    COCO JSON, or a VOC layout (``data_prefix.sub_data_root`` with ``Annotations/`` and ``JPEGImages/``)."""
    for cfg in _datasets(dataset_cfg):
        data_prefix = cfg.get('data_prefix') or {}
        voc_root = data_prefix.get('sub_data_root')
        hint = VOC_HINT if voc_root is not None else DEMO_HINT
        data_root = cfg.get('data_root') or ''
        if data_root and not osp.isdir(data_root):
            raise FileNotFoundError(f'{name}.dataset.data_root={data_root!r} does not exist. {hint}')
        folders = ([(f'the {sub} folder', 'data_root + data_prefix.sub_data_root + ' + sub,
                     osp.join(_resolve(data_root, voc_root), sub)) for sub in VOC_SUBDIRS] if voc_root is not None else
                   [('the image folder', 'data_root + data_prefix.img',
                     _resolve(data_root, data_prefix.get('img', '')))])
        for what, described, folder in folders:
            if folder and not osp.isdir(folder):
                raise FileNotFoundError(f'{name}: {what} {folder!r} ({described}) does not exist. {hint}')
        if cfg.get('ann_file'):
            ann_file = _resolve(data_root, cfg['ann_file'])
            if not osp.isfile(ann_file):
                raise FileNotFoundError(f'{name}: the annotation file {ann_file!r} (data_root + ann_file) does '
                                        f'not exist. {hint}')
            if voc_root is None:
                _check_coco_json(name, ann_file, _config_classes(cfg))


def _config_classes(cfg: ConfigDict) -> Optional[List[str]]:
    """The classes a dataset config trains on: its ``metainfo.classes`` or its dataset class's defaults."""
    classes = (cfg.get('metainfo') or {}).get('classes')
    if classes is None and cfg.get('type'):
        from mmdet.registry import DATASETS
        dataset_class = DATASETS.get(cfg['type'])
        classes = getattr(dataset_class, 'METAINFO', {}).get('classes')
    return list(classes) if classes is not None else None


def _check_coco_json(name: str, ann_file: str, classes: Optional[List[str]]) -> None:
    if os.path.getsize(ann_file) > FULL_JSON_CHECK_BYTES:
        with open(ann_file, 'rb') as f:
            if f.read(64).lstrip()[:1] != b'{':
                raise ValueError(f'{name}: {ann_file!r} is not COCO JSON (it does not start with a JSON object)')
        return
    try:
        with open(ann_file, encoding='utf-8') as f:
            content = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f'{name}: {ann_file!r} is not valid JSON ({error}); a COCO annotation file is expected')
    missing = [key for key in ('images', 'annotations', 'categories')
               if not isinstance(content, dict) or not isinstance(content.get(key), list)]
    if missing:
        raise ValueError(f'{name}: {ann_file!r} is not a COCO instances file: it lacks the lists {missing}')
    names = [category.get('name') for category in content['categories']]
    if classes is not None and not set(names) & set(classes):
        raise ValueError(f'{name}: no category of {ann_file!r} ({names[:10]}) is one of the config\'s classes '
                         f'({classes[:10]}{" ..." if len(classes) > 10 else ""}); set '
                         f'{name}.dataset.metainfo.classes to the names to train on')


def check_checkpoint(path: str, model: nn.Module, fine_tune: bool = False) -> None:
    """Check that ``path`` is a readable checkpoint whose ``state_dict`` fits ``model`` exactly, or with
    ``fine_tune`` (training from ``load_from``) but for classification layers of another number of classes
    (:func:`.fine_tune.class_layers_to_reinit`)."""
    try:
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as error:  # torch raises many types for truncated, corrupt or foreign files
        if 'Unsupported global' in str(error):  # readable, but holds classes outside the allow-list
            raise ValueError(f'checkpoint={path!r} holds objects that torch will not load safely ({error}). '
                             'If you trust it: TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1') from error
        raise ValueError(f'checkpoint={path!r} cannot be read: it is truncated, corrupt or not a PyTorch '
                         f'checkpoint ({type(error).__name__}: {error})') from error
    state_dict = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state_dict, dict):
        raise ValueError(f'checkpoint={path!r} holds no state dict')
    expected = (model.module if is_model_wrapper(model) else model).state_dict()
    if fine_tune:
        class_layers_to_reinit(expected, state_dict, path)
        return
    missing = sorted(k for k in expected.keys() - state_dict.keys() if not k.endswith('num_batches_tracked'))
    unexpected = sorted(state_dict.keys() - expected.keys())
    mismatched = sorted(k for k in expected.keys() & state_dict.keys() if expected[k].shape != state_dict[k].shape)
    if missing or unexpected or mismatched:
        raise ValueError(f'checkpoint={path!r} belongs to another model: {len(missing)} missing keys '
                         f'{missing[:8]}, {len(unexpected)} unexpected keys {unexpected[:8]}, {len(mismatched)} '
                         f'keys of another shape {mismatched[:8]}')
