"""Signal equations: the MP-RAGE echo train (:mod:`mrsim.signal.mprage`) and the spoiled,
multi-echo GRE (:mod:`mrsim.signal.gre`; also importable from :mod:`mrsim.qsm.gre`)."""
