"""RTSP stream liveness: is the stream there and does it describe media (optionally: does a frame come)."""
