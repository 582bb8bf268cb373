# BCCD light recipe, peer: MMDetection's SSDLite-MobileNetV2 with batches of 2 instead of 8 (lr unchanged),
# dropping each epoch's last 1-image batch, on which SSDLite's last 1x1 level cannot train BatchNorm.
# Why: docs/light_detectors.md
_base_ = './ssdlite_mobilenetv2_ssdneck_1xb8-36e_bccd.py'

train_dataloader = dict(batch_size=2, batch_sampler=dict(drop_last=True))
