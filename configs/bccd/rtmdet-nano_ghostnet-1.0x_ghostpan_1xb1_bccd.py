# Recipe probe of the BCCD light rows (docs/light_detectors.md): the nano row with batches of 1 image, the next step
# of the 8 -> 4 -> 2 trend (test mAP 0.535 -> 0.577 -> 0.588), so twice the light recipe's optimizer steps (7380
# instead of 3744) over the same 36 epochs; learning rate, warm-up (100 iterations) and cosine decay unchanged.
# BatchNorm still sees 12x16 positions or more per channel at the coarsest level of a 384x512 input.
_base_ = './rtmdet-nano_ghostnet-1.0x_ghostpan_bccd.py'

train_dataloader = dict(batch_size=1)
