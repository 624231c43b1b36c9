#!/bin/bash
# Lever screening on a GPU machine (docs/usefulness.md): one process per group of
# variants, all at GAN n_steps=600. Run from the repo root with the MNIST sample
# cached in .bench_data/mnist_sample.npz; logs land in /tmp/logs and $OUT.
# Usage: OUT=/tmp/out bash benchmarks/usefulness_screen.sh
export NO_ALBUMENTATIONS_UPDATE=1 PYTHONUNBUFFERED=1
mkdir -p /tmp/logs
B="python3 benchmarks/usefulness.py --n 10 50 --seeds 0 1 2 3 4 --gan-steps 600 --device cuda --cnn-device cuda --threads 1"
run() { name=$1; shift; $B "$@" --json /tmp/logs/$name.json > /tmp/logs/$name.log 2>&1 & }
run A --variant base: --variant f9:filter=0.9 --variant f5:filter=0.5 --variant w5:weight=0.5 --variant sc:syn_classical=1
run B --variant r2:ratio=2 --variant r05:ratio=0.5 --variant t1:trunc=1.0 --variant pool0:pool=0
run C --variant ra1:real_augment=1 --variant ra1f9:real_augment=1,filter=0.9 --variant ra1sc:real_augment=1,syn_classical=1 --variant ra1w5:real_augment=1,weight=0.5
run D --variant ra05:real_augment=0.5 --variant ra15:real_augment=1.5
run E --variant lc:lecam_weight=0.1 --variant ra1lc:real_augment=1,lecam_weight=0.1
run F --variant dat:diffaugment=translation --variant da0:diffaugment=
run G --variant aux0:aux_weight=0 --variant aux03:aux_weight=0.3 --variant aux3:aux_weight=3
run H --variant long:n_steps=1500
run I --variant ra1long:n_steps=1500,real_augment=1
run J --variant pc:strategy=per_class
run K --variant w64:g_width=64,d_width=64 --variant w16:g_width=16,d_width=16
run L --variant b64:batch_size=64 --variant ra1b64:batch_size=64,real_augment=1
wait
cd /tmp/logs && tar czf $OUT/logs.tgz *.json *.log
for f in *.log; do echo "=== $f"; sed -n '/^| N/,$p' $f; grep -m3 -i "error\|Traceback" $f; done
