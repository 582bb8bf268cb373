# BCCD light study (docs/light_detectors.md), row "GhostNet 1.0x, nano" on the light rows' recipe, which the
# recipe probes chose: rtmdet-nano_ghostnet-1.0x_ghostpan_1xb8-36e_bccd.py with batches of 2 images instead of 8 (four times
# the optimizer steps, 3744 instead of 936, over the same 36 epochs and about the same CPU time; learning rate,
# warm-up of 100 iterations and cosine decay unchanged), like every light row and the RetinaNet control.
_base_ = './rtmdet-nano_ghostnet-1.0x_ghostpan_1xb8-36e_bccd.py'

train_dataloader = dict(batch_size=2)
