"""mrsim.motion"""
