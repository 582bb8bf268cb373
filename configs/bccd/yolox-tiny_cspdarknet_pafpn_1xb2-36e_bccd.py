# BCCD light study (docs/light_detectors.md), row "YOLOX-tiny (mmdet)" on the light rows' recipe:
# yolox-tiny_cspdarknet_pafpn_1xb8-36e_bccd.py with batches of 2 images instead of 8 (four times the optimizer steps over
# the same 36 epochs, learning rate and schedule unchanged), like every light row and the RetinaNet control.
_base_ = './yolox-tiny_cspdarknet_pafpn_1xb8-36e_bccd.py'

train_dataloader = dict(batch_size=2)
