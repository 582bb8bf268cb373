# Recipe probe of the BCCD light rows (docs/light_detectors.md), on the control row: the study's GhostNet +
# GhostFPN RetinaNet with batches of 4 images instead of 8 (twice the optimizer steps over the same 36 epochs,
# learning rate and schedule unchanged), as rtmdet-nano_ghostnet-1.0x_ghostpan_1xb4_bccd.py for the nano row.
_base_ = './retinanet_ghostnet-1.0x_ghostfpn_bccd.py'

train_dataloader = dict(batch_size=4)
