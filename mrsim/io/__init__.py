"""Input/output: NIfTI volumes and the HDF5 dataset schema."""
