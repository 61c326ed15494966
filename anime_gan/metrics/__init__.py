"""Evaluation metrics as torchmetrics objects and named protocols (paper 5.3).

- FID and KID: torchmetrics' ``FrechetInceptionDistance`` and ``KernelInceptionDistance`` on our
  feature extractors (:mod:`.features`: Illustration2Vec's encode1, or a judge's features);
- :mod:`.swd`: multi-scale sliced Wasserstein distance (needs no downloaded weights);
- :mod:`.precision`, :mod:`.precision_table`: per-label precision (Table 2) with a judge
  (:mod:`.judge`, trained by :mod:`.judge_training`);
- :mod:`.protocols`: the named protocols (``fid12k8_x5``, ``swd2k``, ``precision20``, ...) that
  both the training callbacks and ``anime-gan evaluate`` (:mod:`.evaluate`) run, on an
  :class:`.context.EvalContext`.
"""
