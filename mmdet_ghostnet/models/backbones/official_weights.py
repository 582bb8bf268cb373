"""Read GhostNet (V1, V2, V3) checkpoints in the official / timm layout and load them strictly into the backbones.

A checkpoint is a file or an http(s) URL; mmengine's loader downloads a URL once into torch.hub's cache
(``download_cache_path``) and reads it from there afterwards.
"""
import http.client
import os
import re
from typing import Dict, Iterable, List, Optional
from urllib.parse import urlparse

import torch
from mmengine.runner.checkpoint import CheckpointLoader
from torch import Tensor, nn

# The authors' ImageNet releases, by backbone type and widen_factor: the files timm's ghostnet.py names. No other
# width has released weights (in particular not 1.1x, the paper's detection width).
RELEASES = 'https://github.com/huawei-noah/Efficient-AI-Backbones/releases/download'
IMAGENET_WEIGHTS = {
    ('GhostNet', 1.0): 'https://github.com/huawei-noah/CV-backbones/releases/download/ghostnet_pth/ghostnet_1x.pth',
    ('GhostNetV2', 1.0): f'{RELEASES}/GhostNetV2/ck_ghostnetv2_10.pth.tar',
    ('GhostNetV2', 1.3): f'{RELEASES}/GhostNetV2/ck_ghostnetv2_13.pth.tar',
    ('GhostNetV2', 1.6): f'{RELEASES}/GhostNetV2/ck_ghostnetv2_16.pth.tar',
    ('GhostNetV3', 1.0): f'{RELEASES}/GhostNetV3/ghostnetv3-1.0.pth.tar',
}
RELEASED_WIDTHS = ', '.join(f'{name} {width}x' for name, width in IMAGENET_WEIGHTS)

# The ImageNet classifier: never part of a detection backbone.
HEAD_PREFIXES = ('conv_head.', 'classifier.')
# Written into every module by the thop profiler.
PROFILER_SUFFIXES = ('total_ops', 'total_params')
# GhostNetV3's training branches: official ``ghost1.primary_rpr_conv.0.bn.weight`` (timm: ``bn1``) is this plugin's
# ``ghost1.primary_conv.0.rpr_conv.0.bn.weight``; ``RepConvNorm`` stands where the folded conv will be.
REP_BRANCH_KEY = re.compile(r'(?:^|(?<=\.))(primary|cheap|dw)_rpr_(conv|scale|skip)\.')
REP_OWNERS = {'primary': 'primary_conv.0.', 'cheap': 'cheap_operation.0.', 'dw': 'conv_dw.'}


class CheckpointDownloadError(RuntimeError):
    """A checkpoint URL that is neither reachable nor in the download cache."""


def is_url(checkpoint: str) -> bool:
    """Whether ``checkpoint`` is read by mmengine's http(s) loader (downloaded once, then cached)."""
    return checkpoint.startswith(('http://', 'https://'))


def download_cache_path(url: str) -> str:
    """The file in which mmengine's http loader (``torch.hub.load_state_dict_from_url``) keeps ``url``'s download."""
    return os.path.join(torch.hub.get_dir(), 'checkpoints', os.path.basename(urlparse(url).path))


def read_official_state_dict(checkpoint: str,
                             prefix: Optional[str] = None,
                             map_location: str = 'cpu') -> Dict[str, Tensor]:
    """Return the backbone tensors of ``checkpoint`` (a file or an http(s) URL) under official GhostNet names.

    Accepts a bare state dict or one wrapped in ``state_dict``/``model``; strips a DataParallel ``module.``
    prefix, thop's ``total_ops``/``total_params`` entries and, if given, keeps only keys under ``prefix``
    (e.g. ``'backbone.'`` for a whole-detector checkpoint), with the prefix removed. A URL that can be neither
    downloaded nor found in the download cache raises ``CheckpointDownloadError``.
    """
    try:
        loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location=map_location)
    except (OSError, http.client.HTTPException) as error:  # urllib's errors, timeouts, refused connections
        if not is_url(checkpoint):
            raise
        raise CheckpointDownloadError(
            f'checkpoint={checkpoint!r} cannot be downloaded ({type(error).__name__}: {error}) and is not in the '
            f'download cache ({download_cache_path(checkpoint)}). Without network: fetch the file elsewhere and '
            'pass it with --cfg-options model.backbone.init_cfg.checkpoint=PATH (or copy it to that cache path), '
            'or train the backbone from scratch with --cfg-options model.backbone.init_cfg.checkpoint=None (the '
            'authors warn that detection from scratch may not converge).') from error
    state_dict = loaded
    for wrapper in ('state_dict', 'model'):
        if isinstance(state_dict, dict) and isinstance(state_dict.get(wrapper), dict):
            state_dict = state_dict[wrapper]
    if not isinstance(state_dict, dict) or not state_dict:
        raise ValueError(f'checkpoint={checkpoint!r} holds no state dict (found {type(loaded).__name__})')
    if all(key.startswith('module.') for key in state_dict):
        state_dict = {key[len('module.'):]: value for key, value in state_dict.items()}
    if prefix:
        prefix = prefix if prefix.endswith('.') else prefix + '.'
        selected = {key[len(prefix):]: value for key, value in state_dict.items() if key.startswith(prefix)}
        if not selected:
            raise ValueError(f'prefix={prefix!r} matches no key of checkpoint={checkpoint!r}; '
                             f'its first keys are {sorted(state_dict)[:5]}')
        state_dict = selected
    return {
        _plugin_key(key): value
        for key, value in state_dict.items()
        if not key.endswith(PROFILER_SUFFIXES) and not key.startswith(HEAD_PREFIXES)
    }


def _plugin_key(key: str) -> str:
    """``key`` under this plugin's names: only GhostNetV3's branch names differ from the official ones."""
    match = REP_BRANCH_KEY.search(key)
    if match is None:
        return key
    owner, branch = match.groups()
    rest = re.sub(r'(^|\.)bn1\.', r'\1bn.', key[match.end():])
    return f'{key[:match.start()]}{REP_OWNERS[owner]}rpr_{branch}.{rest}'


def checkpoint_version(keys: Iterable[str]) -> str:
    """Which backbone a state dict's (plugin) keys belong to, judging by the modules the versions add."""
    keys = list(keys)
    if any('.rpr_' in key for key in keys):
        return 'GhostNetV3 (training form)'
    if any('.short_conv.' in key for key in keys):
        return 'GhostNetV2 (or a folded GhostNetV3)'
    return 'GhostNet (V1)'


def load_official_weights(model: nn.Module,
                          checkpoint: str,
                          prefix: Optional[str] = None,
                          map_location: str = 'cpu') -> None:
    """Load ``checkpoint`` into a ``GhostNet`` / ``GhostNetV2`` / ``GhostNetV3`` strictly; raise ``ValueError``
    listing any key that does not fit, before any weight of ``model`` is changed.

    Keys of stage groups that ``model`` does not build (those after its last ``out_indices``) are ignored, as is
    the classifier head; BatchNorm ``num_batches_tracked`` counters may be absent.
    """
    state_dict = read_official_state_dict(checkpoint, prefix, map_location)
    num_groups = len(model.blocks)
    state_dict = {
        key: value
        for key, value in state_dict.items()
        if not (match := re.match(r'blocks\.(\d+)\.', key)) or int(match.group(1)) < num_groups
    }
    model_state = model.state_dict()
    mismatched = [
        f'{key}: checkpoint {tuple(value.shape)} vs model {tuple(model_state[key].shape)}'
        for key, value in state_dict.items() if key in model_state and value.shape != model_state[key].shape
    ]
    if mismatched:
        raise ValueError(f'checkpoint={checkpoint!r} does not fit {type(model).__name__}'
                         f'(widen_factor={getattr(model, "widen_factor", "?")}): {len(mismatched)} tensors differ '
                         f'in shape, e.g. {_shorten(mismatched, 3)}. Set widen_factor to the width the checkpoint '
                         f'was trained with (released: {RELEASED_WIDTHS}).')
    missing = [key for key in model_state if key not in state_dict and not key.endswith('num_batches_tracked')]
    unexpected = [key for key in state_dict if key not in model_state]
    if missing or unexpected:
        raise ValueError(f'checkpoint={checkpoint!r} does not match {type(model).__name__}: '
                         f'unexpected keys {_shorten(unexpected)}, missing keys {_shorten(missing)}. The checkpoint '
                         f'looks like {checkpoint_version(state_dict)}: build the backbone of that version with the '
                         "same widen_factor. A whole-detector checkpoint needs prefix='backbone.'.")
    model.load_state_dict(state_dict, strict=False)  # checked above: only num_batches_tracked may be absent


def _shorten(keys: List[str], limit: int = 12) -> str:
    """``keys`` as a list, cut after ``limit`` entries with the total count."""
    return f'{keys[:limit]}' + (f' (+{len(keys) - limit} more)' if len(keys) > limit else '')
