# BCCD light recipe: the light GhostNet detector (nano, GhostNet 1.0x + Ghost-PAN 96) with batches of 2 instead
# of 8 (4x the steps over the same 36 epochs, lr unchanged). Why: docs/light_detectors.md
_base_ = './rtmdet-nano_ghostnet-1.0x_ghostpan_1xb8-36e_bccd.py'

train_dataloader = dict(batch_size=2)
