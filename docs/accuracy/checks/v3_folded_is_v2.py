"""Folded GhostNetV3 RetinaNet against folded GhostNetV2 RetinaNet (BCCD configs) with identical weights.

Loads the folded V2 detector's weights into the folded V3 detector (strict), checks that both give the same
backbone + neck features on one input, and times ``extract_feat`` of each in alternating rounds (1 thread).
Shows whether a latency gap between the two study rows comes from the networks or from the workload that their
different random weights give the head.

    taskset -c 0 env OMP_NUM_THREADS=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647 \
        .venv/bin/python docs/accuracy/checks/v3_folded_is_v2.py
"""
import statistics
import time

import torch
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.logging import MMLogger

from mmdet_ghostnet import fuse_for_deploy


def folded_retinanet(version: str) -> torch.nn.Module:
    model = MODELS.build(Config.fromfile(f'configs/bccd/retinanet_{version}-1.0x_ghostfpn_bccd.py').model)
    model.init_weights()
    return fuse_for_deploy(model.eval())


def median_ms(model: torch.nn.Module, image: torch.Tensor, repeats: int = 10) -> float:
    times = []
    with torch.no_grad():
        model.extract_feat(image)
        for _ in range(repeats):
            start = time.perf_counter()
            model.extract_feat(image)
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main() -> None:
    register_all_modules()
    MMLogger.get_current_instance().setLevel('WARNING')
    torch.set_num_threads(1)
    torch.manual_seed(0)
    v2, v3 = folded_retinanet('ghostnetv2'), folded_retinanet('ghostnetv3')
    v3.load_state_dict(v2.state_dict(), strict=True)
    image = torch.randn(1, 3, 384, 512)
    with torch.no_grad():
        difference = max((a - b).abs().max().item() for a, b in zip(v2.extract_feat(image), v3.extract_feat(image)))
    print(f'{len(v2.state_dict())} tensors loaded strictly; features max |V2 - V3| = {difference:.1e}')
    for round_ in range(1, 4):
        print(f'round {round_}: backbone + neck median ms: V2 {median_ms(v2, image):.1f}, '
              f'V3 {median_ms(v3, image):.1f}')


if __name__ == '__main__':
    main()
