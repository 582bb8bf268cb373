from .conv_norm_act import conv_norm_act, inplace_act_cfg
from .dfc_attention import DFCAttention
from .ghost_bottleneck import GhostBottleneck
from .ghost_module import GhostModule
from .ghost_separable_conv import GhostSeparableConv
from .make_divisible import make_divisible
from .rep_conv_norm import RepConvNorm, fold_rep_convs
from .squeeze_excite import SqueezeExcite

__all__ = [
    'conv_norm_act', 'inplace_act_cfg', 'DFCAttention', 'GhostBottleneck', 'GhostModule', 'GhostSeparableConv',
    'make_divisible', 'RepConvNorm', 'fold_rep_convs', 'SqueezeExcite'
]
