"""Signal equations: the MP-RAGE echo train (:mod:`mrsim.signal.mprage`)."""
