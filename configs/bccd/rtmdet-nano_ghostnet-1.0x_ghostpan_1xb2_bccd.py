# Recipe probe of the BCCD light rows (docs/light_detectors.md): the nano row with batches of 2 images, four times
# the study's optimizer steps (3744) over the same 36 epochs; learning rate, warm-up (100 iterations) and cosine
# decay unchanged. Follows the batch-4 probe (rtmdet-nano_ghostnet-1.0x_ghostpan_1xb4_bccd.py).
_base_ = './rtmdet-nano_ghostnet-1.0x_ghostpan_bccd.py'

train_dataloader = dict(batch_size=2)
