"""The paper's cost table, counted with mmengine's analysis tools."""
import pytest
import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from torch import nn

from mmdet_ghostnet import GhostFPN, GhostNet


class ImageNetClassifier(nn.Module):
    """GhostNet (or ``backbone``: V2, V3) through blocks.9 plus the paper's ImageNet head (pool, 1x1 conv to 1280,
    ReLU, linear)."""

    def __init__(self, widen_factor: float, backbone: type = GhostNet) -> None:
        super().__init__()
        self.backbone = backbone(widen_factor=widen_factor, out_indices=(10, ))
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(self.backbone.out_channels[0], 1280, 1), nn.ReLU(), nn.Flatten(),
            nn.Linear(1280, 1000))

    def forward(self, x):
        return self.head(self.backbone(x)[0])


def multiply_adds(model, *inputs):
    """Multiply-adds of convolutions and linear layers (the paper's FLOPs), per mmengine's FlopAnalyzer."""
    by_operator = FlopAnalyzer(model.eval(), inputs).unsupported_ops_warnings(False).by_operator()
    return by_operator['conv'] + by_operator.get('linear', 0)


@pytest.mark.parametrize('width, paper_flops, paper_params', [
    (0.5, 42e6, 2.6e6),
    (1.0, 141e6, 5.2e6),
    (1.3, 226e6, 7.3e6),
])
def test_imagenet_cost_matches_paper(width, paper_flops, paper_params):
    model = ImageNetClassifier(width)
    flops = multiply_adds(model, torch.randn(1, 3, 224, 224))
    params = parameter_count(model)['']
    assert flops == pytest.approx(paper_flops, rel=0.03)
    assert params == pytest.approx(paper_params, rel=0.03)


def test_detection_backbone_cost_matches_paper():
    """Paper Table 8: GhostNet 1.1x, the detection backbone up to the final 1x1 conv, 164M at 224x224."""
    model = GhostNet(widen_factor=1.1, out_indices=(10, ))
    assert multiply_adds(model, torch.randn(1, 3, 224, 224)) == pytest.approx(164e6, rel=0.03)


def test_ghost_fpn_costs_at_most_a_quarter_of_fpn():
    from mmdet.models.necks import FPN
    in_channels = list(GhostNet(widen_factor=1.1).out_channels)
    kwargs = dict(in_channels=in_channels, out_channels=256, num_outs=5, start_level=1,
                  add_extra_convs='on_input')
    features = tuple(
        torch.randn(1, c, 800 // s, 1344 // s) for c, s in zip(in_channels, (4, 8, 16, 32)))
    fpn_flops = multiply_adds(FPN(**kwargs), features)
    ghost_flops = multiply_adds(GhostFPN(**kwargs), features)
    assert ghost_flops <= 0.25 * fpn_flops
    assert parameter_count(GhostFPN(**kwargs))[''] <= 0.25 * parameter_count(FPN(**kwargs))['']
