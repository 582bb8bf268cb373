"""Weights that ship: a training checkpoint reduced to what inference needs, and its entry in the model index.

A training checkpoint holds the optimizer state, the message hub and the random states besides the weights: about
3× their size. :func:`publish_weights` keeps the weights (as float16 by default, half the size again; loading
copies them into the float32 model, so evaluation runs in float32) and the dataset's class names, refuses
non-finite weights, writes the file atomically and returns its sha256. :func:`update_model_index` records the file
in an MMDetection-style ``metafile.yml`` (config, weights, sha256, metrics), such as the model zoo's
(``checkpoints/metafile.yml``).
"""
import hashlib
import os.path as osp
from pathlib import Path
from typing import Dict, Optional, Union

import torch
import yaml

from .atomic_file import atomic_write_path
from .checkpoint_safety import nonfinite_tensors

KEPT_META = ('dataset_meta', 'epoch', 'iter', 'seed', 'mmdet_version', 'mmengine_version')


def sha256_of(path: Union[str, Path]) -> str:
    """Hex sha256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, 'rb') as file:
        for block in iter(lambda: file.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def publish_weights(checkpoint: Union[str, Path], out: Union[str, Path], fp16: bool = True) -> str:
    """Write the weights of training ``checkpoint`` to ``out`` (float16 when ``fp16``); return its sha256.

    Raises ``ValueError`` if ``checkpoint`` holds no state dict or a weight that is not finite.
    """
    loaded = torch.load(checkpoint, map_location='cpu', weights_only=True)
    state_dict = loaded.get('state_dict') if isinstance(loaded, dict) else None
    if not isinstance(state_dict, dict):
        raise ValueError(f'checkpoint={str(checkpoint)!r} holds no state_dict')
    not_finite = nonfinite_tensors(state_dict)
    if not_finite:
        raise ValueError(f'checkpoint={str(checkpoint)!r} has {len(not_finite)} non-finite tensors '
                         f'({not_finite[:5]}): refusing to publish it')
    if fp16:
        state_dict = {name: tensor.half() if tensor.is_floating_point() else tensor
                      for name, tensor in state_dict.items()}
    meta = {key: value for key, value in loaded.get('meta', {}).items() if key in KEPT_META}
    with atomic_write_path(out) as tmp:
        torch.save(dict(meta=meta, state_dict=state_dict), tmp)
    return sha256_of(out)


# what describes a zoo entry rather than its file (Title beside Name, the others in Metadata): kept when the entry's
# file is replaced
DESCRIPTIVE = ('Title', 'Use', 'Runs', 'Recommended')


def update_model_index(index: Union[str, Path], name: str, config: str, weights: str, sha256: str,
                       metrics: Dict[str, float], metadata: Dict[str, object],
                       describe: Optional[Dict[str, object]] = None) -> None:
    """Add model ``name`` to the ``metafile.yml`` at ``index`` (created if absent), or replace its file.

    ``metrics`` are mmdet's COCO metrics (``coco/bbox_mAP`` ...), written as ``box AP`` etc. in percent as
    MMDetection's model indexes do; paths are relative to the repository root. A replaced entry keeps its place
    and the fields of ``DESCRIPTIVE`` (``describe`` overrides them) and loses the old file's measured fields (its
    latency, ...: ``tools/model_zoo.py --update`` measures the new one). ``describe={'Recommended': True}`` takes
    the recommendation from every other entry. The rest of the index (its ``Benchmark``) is kept.
    """
    index = Path(index)
    zoo = yaml.safe_load(index.read_text()) if index.is_file() else {}
    models = zoo.setdefault('Models', [])
    old = next((model for model in models if model['Name'] == name), None)
    kept = {**old.get('Metadata', {}), 'Title': old.get('Title')} if old else {}
    description = {key: kept[key] for key in DESCRIPTIVE if kept.get(key) is not None}
    description.update(describe or {})
    if description.get('Recommended'):
        for model in models:
            model.get('Metadata', {}).pop('Recommended', None)
    title = description.pop('Title', None)
    entry = dict(
        Name=name, **({'Title': title} if title else {}), Config=config, Weights=weights,
        Metadata=dict(description, **metadata,
                      **{'Weights sha256': sha256, 'Weights MB': round(osp.getsize(weights) / 2**20, 2)}),
        Results=[dict(Task='Object Detection', Dataset='BCCD test', Metrics={
            'box AP': round(100 * metrics['coco/bbox_mAP'], 1),
            'box AP@0.5': round(100 * metrics['coco/bbox_mAP_50'], 1),
            'box AP@0.75': round(100 * metrics['coco/bbox_mAP_75'], 1),
        })])
    if old is None:
        models.append(entry)
    else:
        models[models.index(old)] = entry
    with atomic_write_path(index) as tmp:
        tmp.write_text(yaml.safe_dump(zoo, sort_keys=False, allow_unicode=True, width=120))
