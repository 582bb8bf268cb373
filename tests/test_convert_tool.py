import subprocess
import sys
from pathlib import Path

import torch

from mmdet_ghostnet import GhostNet
from timm_oracle import timm_ghostnet

TOOL = str(Path(__file__).parents[1] / 'tools' / 'convert_official_ghostnet.py')


def run_tool(*args):
    return subprocess.run([sys.executable, TOOL, *map(str, args)], capture_output=True, text=True)


def test_converts_thop_profiled_checkpoint_and_detects_width(tmp_path):
    oracle = timm_ghostnet(0.5)
    state_dict = dict(oracle.state_dict(), total_ops=torch.zeros(1), total_params=torch.zeros(1))
    state_dict['blocks.1.0.total_ops'] = torch.zeros(1)
    src, dst = tmp_path / 'official.pth', tmp_path / 'out' / 'ghostnet.pth'
    torch.save(state_dict, src)

    result = run_tool(src, dst)
    assert result.returncode == 0, result.stderr
    assert 'widen_factor=0.5' in result.stdout

    converted = torch.load(dst, weights_only=True)
    assert converted['meta']['widen_factor'] == 0.5
    keys = set(converted['state_dict'])
    assert not any(k.startswith(('classifier.', 'conv_head.')) or k.endswith('total_ops') for k in keys)
    model = GhostNet(widen_factor=0.5, out_indices=(10, ), init_cfg=dict(type='Pretrained', checkpoint=str(dst)))
    model.init_weights()
    assert keys == set(model.state_dict())
    for key, value in model.state_dict().items():
        assert torch.equal(value, oracle.state_dict()[key]), key


def test_refuses_to_overwrite_its_source(tmp_path):
    src = tmp_path / 'official.pth'
    torch.save(timm_ghostnet(0.5).state_dict(), src)
    before = src.read_bytes()
    result = run_tool(src, src)
    assert result.returncode != 0 and 'dst=' in result.stderr
    assert src.read_bytes() == before


def test_reports_a_checkpoint_of_another_network(tmp_path):
    src, dst = tmp_path / 'resnet.pth', tmp_path / 'out.pth'
    torch.save({'conv1.weight': torch.zeros(64, 3, 7, 7)}, src)
    result = run_tool(src, dst)
    assert result.returncode != 0
    assert 'fits no GhostNet' in result.stderr and 'conv1.weight' in result.stderr
    assert not dst.exists()


def test_widen_factor_option_converts_a_width_that_detection_does_not_try(tmp_path):
    """0.8x is not among the widths the tool tries (0.5, 0.75, 1.0, 1.1, 1.3, 1.5, 2.0): only the option converts
    it, and a wrong option is refused."""
    oracle = timm_ghostnet(0.8)
    src = tmp_path / 'ghostnet_080.pth'
    torch.save(oracle.state_dict(), src)

    wrong = run_tool(src, tmp_path / 'wrong.pth', '--widen-factor', 1.0)
    assert wrong.returncode != 0 and 'widen_factor=1.0' in wrong.stderr and not (tmp_path / 'wrong.pth').exists()

    dst = tmp_path / 'ghostnet_0.8x.pth'
    result = run_tool(src, dst, '--widen-factor', 0.8)
    assert result.returncode == 0, result.stderr
    assert 'widen_factor=0.8' in result.stdout
    converted = torch.load(dst, weights_only=True)
    assert converted['meta']['widen_factor'] == 0.8
    model = GhostNet(widen_factor=0.8, out_indices=(10, ), init_cfg=dict(type='Pretrained', checkpoint=str(dst)))
    model.init_weights()
    assert model.state_dict().keys() == converted['state_dict'].keys()
    for key, value in model.state_dict().items():
        assert torch.equal(value, oracle.state_dict()[key]), key
