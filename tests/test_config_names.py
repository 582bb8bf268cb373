"""Every config a user runs (configs/**/*.py, not configs/_base_/) is named with MMDetection's pattern
``{algorithm}_{backbone}_{neck}_{schedule}_{dataset}.py`` (docs/configs.md), opens with a header of at most 3
comment lines, and its name says what it builds. The oracle is the content: each config is loaded with
``Config.fromfile`` (its ``custom_imports`` and mmdet's ``mmdet::`` bases, offline; no dataset is read) and its
neck, batch size and epochs are compared with the name's tokens."""
import functools
import re
from pathlib import Path

import pytest
from mmengine.config import Config

from tool_runs import REPO

CONFIGS = REPO / 'configs'
NAME = re.compile(
    r'(?P<algorithm>[a-z][a-z0-9]*(?:-[a-z0-9]+)*)'  # retinanet, faster-rcnn, rtmdet-nano, yolox-tiny, ssdlite
    r'_(?P<backbone>[a-z][a-z0-9]*(?:-\d+(?:\.\d+)?x)?)'  # ghostnet-1.0x, ghostnetv2-1.3x, mobilenetv2, r18, cspnext
    r'_(?P<neck>ghostfpn|ghostpan|fpn|pafpn|ssdneck)(?:-(?P<width>\d+))?'  # ghostpan-96: 96 output channels
    r'_(?:(?P<variant>[a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*)-)?'  # guided-1xb2-36e
    r'(?P<gpus>\d+)xb(?P<batch>\d+)-(?:(?P<epochs>\d+)e|(?P<times>\d+)x)'  # 1xb8-36e, 8xb2-1x (1x = 12 epochs)
    r'(?:-(?P<size>\d+))?'  # 8xb2-1x-320: the input size
    r'_(?P<dataset>[a-z][a-z0-9]*)\.py')  # coco, bccd, demo; the templates' myvoc, mycoco; a user's own
# The paper's two COCO configs keep the names they were published with: GhostNet 1.1x + GhostFPN.
EXCEPTIONS = {'retinanet_ghostnet_fpn_coco.py', 'faster-rcnn_ghostnet_fpn_coco.py'}
# What each neck token means: the neck types it may build and whether GhostFPN's bottom-up path is on.
NECKS = {
    'ghostfpn': ({'GhostFPN'}, False, 'GhostFPN without its bottom-up path'),
    'ghostpan': ({'GhostFPN'}, True, 'GhostFPN with bottom_up=True (Ghost-PAN)'),
    'fpn': ({'FPN'}, None, "MMDetection's FPN"),
    'pafpn': ({'YOLOXPAFPN', 'CSPNeXtPAFPN', 'PAFPN'}, None, "a PAFPN-type neck of MMDetection's"),
    'ssdneck': ({'SSDNeck'}, None, "MMDetection's SSDNeck"),
}
SHIPPED = sorted(str(path.relative_to(CONFIGS)) for path in CONFIGS.rglob('*.py') if '_base_' not in path.parts)


@functools.lru_cache(maxsize=None)
def load(name: str) -> Config:
    return Config.fromfile(CONFIGS / name)


def type_name(cfg) -> str:
    kind = cfg.get('type')
    return kind.__name__ if isinstance(kind, type) else str(kind).rsplit('.', 1)[-1]  # 'mmdet.FPN' -> 'FPN'


def header(path: Path) -> list:
    """The comment lines above the first line of code."""
    lines = []
    for line in path.read_text(encoding='utf-8').splitlines():
        if line.strip() and not line.lstrip().startswith('#'):
            break
        if line.strip():
            lines.append(line)
    return lines


def test_there_are_configs_and_the_exceptions_exist():
    assert len(SHIPPED) >= 30, SHIPPED
    assert EXCEPTIONS <= set(SHIPPED), EXCEPTIONS - set(SHIPPED)


@pytest.mark.parametrize('name', SHIPPED)
def test_name_follows_the_pattern(name):
    file = Path(name).name
    assert file in EXCEPTIONS or NAME.fullmatch(file), (
        f'configs/{name}: the name is not {{algorithm}}_{{backbone}}_{{neck}}_{{schedule}}_{{dataset}}.py '
        f'(neck one of {sorted(NECKS)}[-width], schedule [variant-]<gpus>xb<batch>-<epochs>e|<n>x[-size], '
        'dataset coco|bccd|demo|myvoc|mycoco; docs/configs.md)')


@pytest.mark.parametrize('name', SHIPPED)
def test_header_says_what_it_is_in_at_most_three_lines(name):
    lines = header(CONFIGS / name)
    assert 1 <= len(lines) <= 3, (f'configs/{name}: the header above the first line of code has {len(lines)} '
                                  'comment lines; it must have 1 to 3 (what the config is, and the doc that says '
                                  'why: the reasoning and results belong in docs/)')


@pytest.mark.parametrize('name', SHIPPED)
def test_neck_token_names_the_neck_it_builds(name):
    file = Path(name).name
    neck = load(name).model.get('neck')
    assert neck is not None, f'configs/{name}: cfg.model has no neck'
    built = f'{type_name(neck)} with bottom_up={neck.get("bottom_up", False)}, out_channels={neck.get("out_channels")}'
    if file in EXCEPTIONS:
        assert type_name(neck) == 'GhostFPN' and not neck.get('bottom_up', False), (
            f'configs/{name} (a name kept from the paper) should build GhostFPN without bottom-up path, builds {built}')
        return
    match = NAME.fullmatch(file)
    assert match, f'configs/{name}: the name does not follow the pattern (see test_name_follows_the_pattern)'
    token = match['neck'] + (f'-{match["width"]}' if match['width'] else '')
    types, bottom_up, meaning = NECKS[match['neck']]
    assert type_name(neck) in types and (bottom_up is None or bool(neck.get('bottom_up', False)) == bottom_up), (
        f'configs/{name}: the neck token {token!r} means {meaning}, but cfg.model.neck is {built}')
    if match['width']:
        assert neck.get('out_channels') == int(match['width']), (
            f'configs/{name}: the neck token {token!r} says {match["width"]} channels, but cfg.model.neck is {built}')


@pytest.mark.parametrize('name', [name for name in SHIPPED if Path(name).name not in EXCEPTIONS])
def test_schedule_token_gives_the_batch_size_and_epochs(name):
    match = NAME.fullmatch(Path(name).name)
    assert match, f'configs/{name}: the name does not follow the pattern (see test_name_follows_the_pattern)'
    cfg = load(name)
    epochs = int(match['epochs']) if match['epochs'] else 12 * int(match['times'])  # MMDetection's 1x = 12 epochs
    built = (int(cfg.train_dataloader.batch_size), int(cfg.train_cfg.max_epochs))
    assert built == (int(match['batch']), epochs), (
        f'configs/{name}: the schedule token says batches of {match["batch"]} for {epochs} epochs, but the config '
        f'trains batches of {built[0]} (train_dataloader.batch_size) for {built[1]} epochs (train_cfg.max_epochs)')
