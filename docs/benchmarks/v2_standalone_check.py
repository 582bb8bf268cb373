"""Time our GhostNetV2 1.0x against timm's ghostnetv2_100 (blocks 0-8) in one process, one thread, 800x1344."""
import torch, time
torch.set_num_threads(1)
from mmengine.registry import init_default_scope
init_default_scope('mmdet')
from mmdet_ghostnet.benchmark.models import TimmGhostNetTrunk
from mmdet_ghostnet import GhostNetV2
ours = GhostNetV2(); ours.init_weights(); ours.eval(); theirs = TimmGhostNetTrunk('ghostnetv2_100').eval()
x = torch.randn(1,3,800,1344)
def t(m, n=5):
    with torch.no_grad():
        m(x); ts=[]
        for _ in range(n):
            a=time.perf_counter(); m(x); ts.append(time.perf_counter()-a)
    return sorted(ts)[n//2]*1000
with torch.no_grad():
    outs = ours(x); print('ours out absmax', [f'{o.abs().max():.3g}' for o in outs], 'min nonzero abs', min(o[o!=0].abs().min().item() for o in outs))
print('ours', t(ours), 'timm', t(theirs))
torch.set_flush_denormal(True)
print('flush denormal: ours', t(ours), 'timm', t(theirs))
