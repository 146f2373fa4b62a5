"""Phantoms: the MNI152 brain template, the full head built on it (:mod:`.head`) with its
3 T tissue table (:mod:`.tissues`), and the analytic 3D Shepp-Logan."""
