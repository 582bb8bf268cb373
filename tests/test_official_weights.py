"""Loading official / timm GhostNet checkpoints: parity with timm, strict key checking, the configs' release URLs
(downloaded once and cached, through a loopback HTTP server: no network) and the pre-flight error when unreachable."""
import logging
import socket
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.logging import MMLogger

from mmdet_ghostnet import GhostNet
from mmdet_ghostnet.engine import preflight
from mmdet_ghostnet.engine.preflight import check_pretrained_backbone
from mmdet_ghostnet.models.backbones.official_weights import (IMAGENET_WEIGHTS, CheckpointDownloadError,
                                                              download_cache_path, load_official_weights)
from timm_oracle import timm_ghostnet, timm_logits_from_features, timm_stage_outputs
from timm_oracle_v2_v3 import official_v3_state_dict, timm_ghostnet_version
from tool_runs import REPO, RETINANET_DEMO, run, tiny_run_options

ALL_STAGES = tuple(range(GhostNet.num_stages))


def save_timm_checkpoint(tmp_path, width, wrap=None, thop=False, data_parallel=False):
    """A timm GhostNet with random weights and BN statistics, saved as the official release would be: bare, or
    wrapped in ``wrap`` ('state_dict' or 'model'), with thop's entries, with DataParallel's ``module.`` prefix."""
    oracle = timm_ghostnet(width)
    state_dict = dict(oracle.state_dict())
    if thop:
        state_dict.update({'total_ops': torch.tensor([1.0]), 'blocks.0.0.total_params': torch.tensor([2.0])})
    if data_parallel:
        state_dict = {f'module.{key}': value for key, value in state_dict.items()}
    path = tmp_path / f'ghostnet_{width}.pth'
    torch.save({wrap: state_dict} if wrap else state_dict, path)
    return oracle, str(path)


@pytest.mark.parametrize('width, layout', [
    (0.5, {}),
    (1.0, dict(wrap='state_dict')),
    (1.1, dict(wrap='model', data_parallel=True)),  # the paper's detection width
    (1.3, dict(thop=True)),
])
def test_timm_weights_give_identical_features_and_logits(build_from_config, tmp_path, width, layout):
    oracle, path = save_timm_checkpoint(tmp_path, width, **layout)
    model = build_from_config(
        dict(type='GhostNet', widen_factor=width, out_indices=ALL_STAGES,
             init_cfg=dict(type='Pretrained', checkpoint=path)))
    model.init_weights()
    model.eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        outs = model(x)
        expected = timm_stage_outputs(oracle, x)
        logits = timm_logits_from_features(oracle, outs[-1])
        expected_logits = oracle(x)
    assert len(outs) == len(expected) == 11
    for index, (out, ref) in enumerate(zip(outs, expected)):
        assert out.shape == ref.shape, f'stage {index}'
        assert (out - ref).abs().max().item() <= 1e-5, f'stage {index}'
    assert logits.shape == (2, 1000)
    assert (logits - expected_logits).abs().max().item() <= 1e-5


def test_detector_checkpoint_loads_with_prefix(build_from_config, tmp_path):
    oracle, _ = save_timm_checkpoint(tmp_path, 1.0)
    path = tmp_path / 'detector.pth'
    detector_state = {f'backbone.{k}': v for k, v in oracle.state_dict().items()}
    detector_state['neck.lateral_convs.0.conv.weight'] = torch.zeros(1)
    torch.save({'state_dict': detector_state, 'meta': {}}, path)
    model = build_from_config(
        dict(type='GhostNet', init_cfg=dict(type='Pretrained', checkpoint=str(path), prefix='backbone.')))
    model.init_weights()
    torch.testing.assert_close(model.blocks[3][0].se.conv_reduce.weight, oracle.blocks[3][0].se.conv_reduce.weight,
                               rtol=0, atol=0)


def test_wrong_width_is_reported(tmp_path):
    _, path = save_timm_checkpoint(tmp_path, 0.5)
    model = GhostNet(widen_factor=1.0, init_cfg=dict(type='Pretrained', checkpoint=path))
    expected = (r'widen_factor=1\.0.*differ in shape.*'
                r'conv_stem.weight: checkpoint \(8, 3, 3, 3\) vs model \(16, 3, 3, 3\)')
    with pytest.raises(ValueError, match=expected):
        model.init_weights()


def test_missing_and_unexpected_keys_are_listed(tmp_path):
    oracle = timm_ghostnet(1.0)
    state_dict = dict(oracle.state_dict())
    del state_dict['blocks.2.0.ghost1.primary_conv.0.weight']
    state_dict['blocks.2.0.extra.weight'] = torch.zeros(1)
    path = tmp_path / 'broken.pth'
    torch.save(state_dict, path)
    model = GhostNet(init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(ValueError) as info:
        model.init_weights()
    assert 'blocks.2.0.ghost1.primary_conv.0.weight' in str(info.value)
    assert 'blocks.2.0.extra.weight' in str(info.value)
    # refused before anything is loaded: the model keeps its weights
    model = GhostNet(init_cfg=None)
    before = {key: value.clone() for key, value in model.state_dict().items()}
    with pytest.raises(ValueError, match='missing keys'):
        load_official_weights(model, str(path))
    assert all(torch.equal(value, before[key]) for key, value in model.state_dict().items())


def test_missing_prefix_is_reported(tmp_path):
    _, path = save_timm_checkpoint(tmp_path, 1.0)
    model = GhostNet(init_cfg=dict(type='Pretrained', checkpoint=path, prefix='backbone.'))
    with pytest.raises(ValueError, match="prefix='backbone.' matches no key"):
        model.init_weights()


@pytest.mark.parametrize('wrap', ['state_dict', 'model', None])
def test_data_parallel_prefix_is_stripped_in_any_wrapper(tmp_path, wrap):
    oracle, path = save_timm_checkpoint(tmp_path, 0.5, wrap=wrap, data_parallel=True)
    model = GhostNet(widen_factor=0.5, init_cfg=dict(type='Pretrained', checkpoint=path))
    model.init_weights()
    state_dict = model.state_dict()
    assert state_dict.keys() <= oracle.state_dict().keys()
    for key, value in state_dict.items():
        assert torch.equal(value, oracle.state_dict()[key]), key


def test_pretrained_without_checkpoint_warns_and_falls_back_to_default_init():
    model = GhostNet(init_cfg=dict(type='Pretrained', checkpoint=None))
    with torch.no_grad():
        model.bn1.weight.fill_(3.0)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        model.init_weights()
    finally:
        logger.removeHandler(handler)
    assert torch.all(model.bn1.weight == 1)
    assert model.init_cfg == dict(type='Pretrained', checkpoint=None)
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert any('training from scratch' in message for message in warnings), warnings


# The authors' release files (docs: the reference's checkpoint names), by backbone type and width.
RELEASE_FILES = {('GhostNet', 1.0): 'ghostnet_1x.pth', ('GhostNetV2', 1.0): 'ck_ghostnetv2_10.pth.tar',
                 ('GhostNetV2', 1.3): 'ck_ghostnetv2_13.pth.tar', ('GhostNetV2', 1.6): 'ck_ghostnetv2_16.pth.tar',
                 ('GhostNetV3', 1.0): 'ghostnetv3-1.0.pth.tar'}
COCO_CONFIGS = sorted(path.name for path in (REPO / 'configs').glob('*.py'))
# the widths with released weights: V1/V2/V3 1.0x, V2 1.3x (the light tiny detector)
URL_CONFIGS = [name for name in COCO_CONFIGS if '-1.0x' in name or 'ghostnetv2-1.3x' in name]


def test_release_table_names_the_authors_files():
    assert {key: url.rsplit('/', 1)[1] for key, url in IMAGENET_WEIGHTS.items()} == RELEASE_FILES
    assert all(url.startswith('https://github.com/huawei-noah/') and '/releases/download/' in url
               for url in IMAGENET_WEIGHTS.values())


@pytest.mark.parametrize('name', COCO_CONFIGS)
def test_coco_configs_name_the_release_url_of_their_backbone_or_say_there_is_none(name):
    cfg = Config.fromfile(REPO / 'configs' / name)
    backbone = cfg.model.backbone
    url = IMAGENET_WEIGHTS.get((backbone.type, backbone.widen_factor))
    assert backbone.init_cfg == dict(type='Pretrained', checkpoint=url)
    assert (url is not None) == (name in URL_CONFIGS)
    if url is None:
        assert backbone.widen_factor == 1.1
        assert 'No ImageNet weights are released at 1.1x' in (REPO / 'configs' / name).read_text()


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """torch.hub's download cache in a temporary folder (its ``checkpoints`` folder is returned); loopback
    addresses bypass any proxy."""
    monkeypatch.setattr(torch.hub, '_hub_dir', str(tmp_path / 'hub'))
    for name in ('no_proxy', 'NO_PROXY'):
        monkeypatch.setenv(name, '127.0.0.1')
    return tmp_path / 'hub' / 'checkpoints'


@contextmanager
def serving(folder: Path):
    """An HTTP server on a free loopback port serving the files of ``folder``: yields its base URL and the list of
    paths requested from it."""
    requested = []

    class Handler(SimpleHTTPRequestHandler):

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args):
            requested.append(self.path)

    server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{server.server_address[1]}', requested
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port_url() -> str:
    """A URL on a loopback port where nothing listens: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    return f'http://127.0.0.1:{port}/ghostnet_1x.pth'


def assert_equal_to(model, oracle):
    for key, value in model.state_dict().items():
        assert torch.equal(value, oracle.state_dict()[key]), key


def test_url_checkpoint_is_downloaded_once_then_read_from_the_cache_strictly(hub_cache, tmp_path):
    served = tmp_path / 'served'
    served.mkdir()
    oracle, _ = save_timm_checkpoint(served, 1.0, thop=True)
    save_timm_checkpoint(served, 0.5)
    with serving(served) as (base, requested):
        url = f'{base}/ghostnet_1.0.pth'
        model = GhostNet(init_cfg=dict(type='Pretrained', checkpoint=url))
        model.init_weights()
        assert requested == ['/ghostnet_1.0.pth']
        with pytest.raises(ValueError, match=r'widen_factor=1\.0.*differ in shape'):  # strict, as for files
            GhostNet(init_cfg=dict(type='Pretrained', checkpoint=f'{base}/ghostnet_0.5.pth')).init_weights()
    assert Path(download_cache_path(url)) == hub_cache / 'ghostnet_1.0.pth'
    assert (hub_cache / 'ghostnet_1.0.pth').is_file()
    again = GhostNet(init_cfg=dict(type='Pretrained', checkpoint=url))
    again.init_weights()  # the server is gone: read from the cache
    assert_equal_to(model, oracle)
    assert_equal_to(again, oracle)


def save_release(folder: Path, backbone_type: str, width: float):
    """A timm model of ``backbone_type`` at ``width`` with random BatchNorms, saved under its release file's name in
    the release's layout (V1 with thop's entries, V3 under official names in ``state_dict`` and
    ``state_dict_ema``); returns the timm model."""
    if backbone_type == 'GhostNet':
        oracle = timm_ghostnet(width)
        state = {**oracle.state_dict(), 'total_ops': torch.tensor([1.0])}
    else:
        oracle = timm_ghostnet_version(backbone_type[-2:].lower(), width)
        state = oracle.state_dict()
        if backbone_type == 'GhostNetV3':
            state = dict(state_dict=official_v3_state_dict(oracle), state_dict_ema=official_v3_state_dict(oracle))
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(state, folder / RELEASE_FILES[backbone_type, width])
    return oracle


@pytest.mark.parametrize('name', [  # one config per release (that each config names its URL: see above)
    'retinanet_ghostnet-1.0x_ghostpan-96_8xb2-1x-320_coco.py', 'faster-rcnn_ghostnetv2-1.0x_ghostfpn_8xb2-1x_coco.py',
    'retinanet_ghostnetv3-1.0x_ghostfpn_8xb2-1x_coco.py'
])
def test_configs_load_their_release_file_from_the_cache_offline(name, hub_cache, monkeypatch):
    """The release file in the cache under the config's URL: the pre-flight passes without any download and the
    backbone gives timm's features."""
    monkeypatch.setattr(torch.hub, 'download_url_to_file', lambda *args, **kwargs: pytest.fail('downloaded'))
    cfg = Config.fromfile(REPO / 'configs' / name)
    oracle = save_release(hub_cache, cfg.model.backbone.type, cfg.model.backbone.widen_factor)
    check_pretrained_backbone(cfg.model)
    backbone = MODELS.build(cfg.model.backbone)
    backbone.init_weights()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        features, expected = backbone.eval()(x), timm_stage_outputs(oracle, x)
    assert len(features) == len(backbone.out_indices) == 4
    for feature, index in zip(features, backbone.out_indices):
        torch.testing.assert_close(feature, expected[index], atol=1e-4, rtol=1e-4)


def unreachable_words(url: str) -> list:
    return [f"checkpoint='{url}' cannot be downloaded", download_cache_path(url),
            '--cfg-options model.backbone.init_cfg.checkpoint=PATH', 'model.backbone.init_cfg.checkpoint=None']


def test_unreachable_url_is_a_preflight_error_naming_it_and_the_ways_on(hub_cache):
    url = closed_port_url()
    cfg = Config.fromfile(REPO / 'configs' / 'retinanet_ghostnet-1.0x_ghostfpn_8xb2-1x_coco.py')
    cfg.merge_from_dict({'model.backbone.init_cfg.checkpoint': url})
    with pytest.raises(CheckpointDownloadError) as info:
        check_pretrained_backbone(cfg.model)
    for words in unreachable_words(url):
        assert words in str(info.value)
    assert not hub_cache.exists() or not list(hub_cache.iterdir())


def test_url_that_never_answers_times_out(hub_cache, monkeypatch):
    monkeypatch.setattr(preflight, 'DOWNLOAD_TIMEOUT_S', 0.5)
    with socket.socket() as listener:  # accepts connections (in its backlog) and never answers
        listener.bind(('127.0.0.1', 0))
        listener.listen()
        url = f'http://127.0.0.1:{listener.getsockname()[1]}/ghostnet_1x.pth'
        model_cfg = Config(dict(model=dict(backbone=dict(
            type='GhostNet', init_cfg=dict(type='Pretrained', checkpoint=url))))).model
        with pytest.raises(CheckpointDownloadError, match='timed out'):
            check_pretrained_backbone(model_cfg)
    assert socket.getdefaulttimeout() is None


def test_missing_local_weights_are_a_preflight_error(tmp_path):
    path = str(tmp_path / 'ghostnet_1x.pth')
    model_cfg = Config(dict(model=dict(backbone=dict(
        type='GhostNetV2', init_cfg=dict(type='Pretrained', checkpoint=path))))).model
    with pytest.raises(FileNotFoundError, match=f"model.backbone.init_cfg.checkpoint='{path}' does not exist"):
        check_pretrained_backbone(model_cfg)


def test_only_training_checks_the_imagenet_weights(tiny_data, hub_cache, monkeypatch):
    """tools/train.py's checks fetch the backbone's ImageNet weights; tools/test.py's (split 'test') do not: the
    trained checkpoint replaces them."""
    from mmdet_ghostnet.utils import cli
    monkeypatch.setattr(cli.Runner, 'from_cfg', lambda cfg: 'runner')
    monkeypatch.setattr(cli.RUNNERS, 'build', lambda cfg: 'runner')
    cfg = Config.fromfile(RETINANET_DEMO)
    cfg.merge_from_dict({f'{split}_dataloader.dataset.data_root': f'{tiny_data}/'
                         for split in ('train', 'val', 'test')})
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=closed_port_url())
    assert cli.build_runner(cfg, ('test', )) == 'runner'
    with pytest.raises(CheckpointDownloadError):
        cli.build_runner(cfg, ('train', 'val'))


def test_train_tool_stops_on_unreachable_weights_before_creating_the_work_dir(tiny_data, tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    url = closed_port_url()
    config = tmp_path / 'demo_with_imagenet_weights.py'
    config.write_text(f"_base_ = '{RETINANET_DEMO}'\nmodel = dict(backbone=dict(init_cfg=dict(_delete_=True, "
                      f"type='Pretrained', checkpoint='{url}')))\n")
    work_dir = tmp_path / 'work'
    result = run(REPO / 'tools' / 'train.py', config, '--work-dir', work_dir, '--cfg-options',
                 *tiny_run_options(tiny_data, 'model.test_cfg.score_thr'), expect_ok=False)
    assert result.returncode != 0 and 'CheckpointDownloadError' in result.stderr
    assert download_cache_path(url).startswith(str(tmp_path / 'torch'))
    for words in unreachable_words(url):
        assert words in result.stderr
    assert not work_dir.exists()
