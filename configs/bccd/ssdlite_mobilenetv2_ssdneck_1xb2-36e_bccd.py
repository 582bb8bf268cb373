# BCCD light study (docs/light_detectors.md), row "SSDLite-MobileNetV2 (mmdet)" on the light rows' recipe:
# ssdlite_mobilenetv2_ssdneck_1xb8-36e_bccd.py with batches of 2 images instead of 8 (four times the optimizer steps over
# the same 36 epochs, learning rate and schedule unchanged), like every light row and the RetinaNet control.
# One difference: the 205 training images leave a last batch of one image per epoch, and SSDLite's last extra
# level is 1x1 at the smallest training scale (448x336), where its BatchNorm cannot train on one value per channel
# (ValueError: Expected more than 1 value per channel). So this row drops that last batch: each epoch trains on
# 204 of the 205 images, a different one left out each epoch by the shuffle.
_base_ = './ssdlite_mobilenetv2_ssdneck_1xb8-36e_bccd.py'

train_dataloader = dict(batch_size=2, batch_sampler=dict(drop_last=True))
