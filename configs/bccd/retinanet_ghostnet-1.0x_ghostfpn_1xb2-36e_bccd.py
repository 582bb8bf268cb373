# BCCD light recipe, control: the study's GhostNet 1.0x + GhostFPN RetinaNet with batches of 2 instead of 8
# (4x the steps over the same 36 epochs, lr unchanged). Why: docs/light_detectors.md
_base_ = './retinanet_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd.py'

train_dataloader = dict(batch_size=2)
