"""mrsim.qsm"""
