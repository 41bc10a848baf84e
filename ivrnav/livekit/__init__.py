"""LiveKit adapters: DTMF sender, the ``NavigateIVR`` task, the worker, the dialler and the line participant.

Submodules are imported on demand (``ivrnav.livekit.task`` etc.): ``devserver`` must stay importable
without livekit-agents' heavier imports.
"""
