"""Offline speech for ivrnav: Piper TTS and Whisper STT as livekit-agents plugins, plus in-band DTMF.

Submodules are imported on demand: ``dtmf`` and ``audio`` need only numpy, while ``tts`` and ``stt``
load ONNX/CTranslate2 engines and the wheel-shipped models (see ``models``).
"""
