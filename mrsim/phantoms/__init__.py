"""Phantoms: the embedded MNI152 brain (default) and the analytic 3D Shepp-Logan."""
