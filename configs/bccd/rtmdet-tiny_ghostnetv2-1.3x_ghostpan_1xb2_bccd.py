# BCCD light study (docs/light_detectors.md), row "GhostNetV2 1.3x, tiny" on the light rows' recipe:
# rtmdet-tiny_ghostnetv2-1.3x_ghostpan_bccd.py with batches of 2 images instead of 8 (four times the optimizer
# steps over the same 36 epochs, learning rate and schedule unchanged), like every light row and the control.
_base_ = './rtmdet-tiny_ghostnetv2-1.3x_ghostpan_bccd.py'

train_dataloader = dict(batch_size=2)
