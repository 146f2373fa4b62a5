"""k-space: acquisition schedules, NUFFT backends, motion corruption, reconstruction."""
