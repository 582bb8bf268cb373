# BCCD light study (docs/light_detectors.md), the control on the light rows' recipe: the study's GhostNet + GhostFPN
# RetinaNet (retinanet_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd.py) with batches of 2 images instead of 8 (four times the
# optimizer steps over the same 36 epochs, learning rate and schedule unchanged), like every light row.
_base_ = './retinanet_ghostnet-1.0x_ghostfpn_1xb8-36e_bccd.py'

train_dataloader = dict(batch_size=2)
