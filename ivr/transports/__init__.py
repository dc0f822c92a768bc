"""Ways calls come in: Asterisk AudioSocket (TCP), Twilio-compatible media
streams (WebSocket), a WAV file or the microphone; ``IvrServer`` runs the
network ones behind ``ivr serve``."""
from ivr.transports.audiosocket import AudioSocketServer, encode_frame, read_frame
from ivr.transports.base import CallInfo, SessionFactory, Transport, TransportFactory
from ivr.transports.callers import CallerResult, audiosocket_call, websocket_call
from ivr.transports.channel import PacedSink, StreamSource
from ivr.transports.local import LocalLine, run_on_virtual_clock
from ivr.transports.media_stream import MediaStreamServer
from ivr.transports.server import NETWORK_TRANSPORTS, IvrServer, parse_hostport, serve

__all__ = [
    "Transport", "TransportFactory", "SessionFactory", "NETWORK_TRANSPORTS",
    "AudioSocketServer", "MediaStreamServer", "IvrServer", "CallInfo", "PacedSink", "StreamSource",
    "CallerResult", "audiosocket_call", "websocket_call", "encode_frame", "read_frame", "parse_hostport",
    "serve", "LocalLine", "run_on_virtual_clock",
]
