# Recipe probe of the BCCD light rows (docs/light_detectors.md): the nano row with batches of 4 images instead of
# the study's 8, so twice as many optimizer steps (1872 instead of 936) over the same 36 epochs and about the same
# CPU time; learning rate, warm-up (100 iterations) and cosine decay unchanged. The light rows train with batches
# of 2 (rtmdet-nano_ghostnet-1.0x_ghostpan_1xb2_bccd.py).
_base_ = './rtmdet-nano_ghostnet-1.0x_ghostpan_bccd.py'

train_dataloader = dict(batch_size=4)
