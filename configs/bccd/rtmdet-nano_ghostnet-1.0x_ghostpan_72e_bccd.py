# Recipe probe of the BCCD light rows (docs/light_detectors.md): the nano row trained twice as long, 72 epochs
# instead of the study's 36, with the same warm-up and a cosine decay stretched over the 72 epochs. The peers'
# validation mAP was still rising at epoch 36; the nano's had stopped with its learning rate.
_base_ = './rtmdet-nano_ghostnet-1.0x_ghostpan_bccd.py'

max_epochs = 72
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs, T_max=max_epochs, eta_min_ratio=0.01)
]
